/*
 * KEVENT (nt.md section 5): a dispatcher header whose signal state is set
 * and reset by the caller.  Setting it releases waiters under the event's
 * stripe, as a timer expiry does (wait.c).
 */
#include "nt_impl.h"

VOID NTAPI
KeInitializeEvent(PRKEVENT Event, EVENT_TYPE Type, BOOLEAN State)
{
	pthread_mutex_t *s;

	nt_clock();
	if ((unsigned)Type > SynchronizationEvent) {
		co_misuse("KeInitializeEvent", Event, "unknown event type");
		return;
	}
	s = nt_stripe(Event);
	pthread_mutex_lock(s);
	Event->Header.Type = (UCHAR)Type;
	Event->Header.Absolute = 0;
	Event->Header.Size = sizeof(KEVENT) / sizeof(LONG);
	Event->Header.Inserted = 0;
	Event->Header.SignalState = State ? 1 : 0;
	nt_list_init(&Event->Header.WaitListHead);
	pthread_mutex_unlock(s);
}

LONG NTAPI
KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait)
{
	pthread_mutex_t *s;
	LONG prev;

	(void)Increment;
	(void)Wait; /* TRUE behaves as FALSE: nothing is held on return */
	nt_clock();
	s = nt_stripe(Event);
	pthread_mutex_lock(s);
	prev = Event->Header.SignalState;
	Event->Header.SignalState = 1;
	nt_signal_locked(&Event->Header);
	pthread_mutex_unlock(s);
	return prev;
}

LONG NTAPI
KeResetEvent(PRKEVENT Event)
{
	pthread_mutex_t *s;
	LONG prev;

	nt_clock();
	s = nt_stripe(Event);
	pthread_mutex_lock(s);
	prev = Event->Header.SignalState;
	Event->Header.SignalState = 0;
	pthread_mutex_unlock(s);
	return prev;
}

VOID NTAPI
KeClearEvent(PRKEVENT Event)
{
	(void)KeResetEvent(Event);
}

LONG NTAPI
KeReadStateEvent(PRKEVENT Event)
{
	pthread_mutex_t *s;
	LONG st;

	nt_clock();
	s = nt_stripe(Event);
	pthread_mutex_lock(s);
	st = Event->Header.SignalState;
	pthread_mutex_unlock(s);
	return st;
}

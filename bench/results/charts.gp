# Made by bench; run with gnuplot from /work/main/bench/results.
set terminal pngcairo size 900,600 noenhanced
set logscale xy
set grid
set key outside right
set datafile missing '?'
set xlabel 'N pending timers'
$fill << EOD
N heap rbtree libevent libuv wheel callout callout-mt floor-chase floor-relink
1000 15.12 70.65 38.76 52.44 7.74 10.89 13.40 4.59 8.23
10000 14.59 95.28 36.23 57.50 3.87 8.00 11.17 5.48 5.23
100000 14.41 188.33 41.45 71.88 4.27 14.49 13.30 48.42 14.00
1000000 16.84 515.71 55.41 93.34 6.98 21.12 29.64 187.80 36.74
10000000 19.44 2190.94 64.03 109.23 8.13 21.14 29.38 296.11 87.27
EOD
set output 'fill.png'
set title 'fill: ns per operation (log scale)'
set ylabel 'ns'
plot for [i=2:8] $fill using 1:i with linespoints title columnhead(i) lw 2, \
  for [i=9:10] $fill using 1:i with lines dt 2 title columnhead(i)
$fill_log << EOD
N heap rbtree libevent libuv wheel callout callout-mt floor-chase floor-relink
1000 11.94 66.98 34.01 46.12 5.00 8.97 13.21 4.59 8.23
10000 12.87 99.80 35.64 59.29 3.45 6.97 10.86 5.48 5.23
100000 14.77 189.34 43.07 71.14 4.54 9.47 13.70 48.42 14.00
1000000 16.31 624.34 55.71 94.74 7.40 19.95 30.44 187.80 36.74
10000000 19.00 2083.83 65.09 111.02 8.24 21.14 31.07 296.11 87.27
EOD
set output 'fill_log.png'
set title 'fill-log: ns per operation (log scale)'
set ylabel 'ns'
plot for [i=2:8] $fill_log using 1:i with linespoints title columnhead(i) lw 2, \
  for [i=9:10] $fill_log using 1:i with lines dt 2 title columnhead(i)
$hot << EOD
N heap rbtree libevent libuv wheel callout callout-mt floor-chase floor-relink
1000 3.26 17.45 14.77 12.10 3.68 5.99 10.42 4.59 8.23
10000 3.07 26.98 15.00 18.67 3.32 6.15 10.02 5.48 5.23
100000 4.49 54.37 15.44 41.60 3.50 6.08 10.54 48.42 14.00
1000000 4.12 90.49 15.23 34.34 3.72 5.88 10.61 187.80 36.74
10000000 4.13 218.32 15.27 41.60 3.52 5.96 10.43 296.11 87.27
EOD
set output 'hot.png'
set title 'hot: ns per operation (log scale)'
set ylabel 'ns'
plot for [i=2:8] $hot using 1:i with linespoints title columnhead(i) lw 2, \
  for [i=9:10] $hot using 1:i with lines dt 2 title columnhead(i)
$rearm << EOD
N heap rbtree libevent libuv wheel callout callout-mt floor-chase floor-relink
1000 11.59 92.11 41.97 64.41 4.83 6.69 11.42 4.59 8.23
10000 15.19 140.52 50.35 85.07 5.58 8.81 13.93 5.48 5.23
100000 27.55 357.23 157.80 230.20 14.82 24.40 34.43 48.42 14.00
1000000 56.38 1013.48 494.50 698.59 31.03 74.66 108.78 187.80 36.74
10000000 122.46 2901.88 722.89 1181.80 77.30 132.00 187.75 296.11 87.27
EOD
set output 'rearm.png'
set title 'rearm: ns per operation (log scale)'
set ylabel 'ns'
plot for [i=2:8] $rearm using 1:i with linespoints title columnhead(i) lw 2, \
  for [i=9:10] $rearm using 1:i with lines dt 2 title columnhead(i)
$cancel_arm << EOD
N heap rbtree libevent libuv wheel callout callout-mt floor-chase floor-relink
1000 12.34 48.14 26.54 33.92 3.33 5.96 10.73 4.59 8.23
10000 15.17 71.72 31.48 43.26 2.92 6.12 10.22 5.48 5.23
100000 23.44 182.69 89.69 124.95 8.33 21.86 25.07 48.42 14.00
1000000 53.21 461.09 306.24 420.79 14.73 65.74 89.89 187.80 36.74
10000000 127.26 1429.24 442.40 651.23 39.54 130.52 164.77 296.11 87.27
EOD
set output 'cancel_arm.png'
set title 'cancel+arm: ns per operation (log scale)'
set ylabel 'ns'
plot for [i=2:8] $cancel_arm using 1:i with linespoints title columnhead(i) lw 2, \
  for [i=9:10] $cancel_arm using 1:i with lines dt 2 title columnhead(i)
$tcp << EOD
N heap rbtree libevent libuv wheel callout callout-mt floor-chase floor-relink
1000 14.65 49.26 39.59 63.27 6.19 8.00 13.87 4.59 8.23
10000 15.47 59.35 47.84 79.21 5.31 7.42 13.44 5.48 5.23
100000 17.06 81.88 105.88 151.91 7.16 12.63 18.35 48.42 14.00
1000000 34.07 186.55 330.52 417.56 17.01 47.84 62.22 187.80 36.74
10000000 95.75 316.71 549.32 595.31 41.81 76.76 100.34 296.11 87.27
EOD
set output 'tcp.png'
set title 'tcp: ns per operation (log scale)'
set ylabel 'ns'
plot for [i=2:8] $tcp using 1:i with linespoints title columnhead(i) lw 2, \
  for [i=9:10] $tcp using 1:i with lines dt 2 title columnhead(i)
$expire << EOD
N heap rbtree libevent libuv wheel callout callout-mt floor-chase floor-relink
1000 74.58 33.38 320.99 266.43 48.89 77.47 83.24 4.59 8.23
10000 101.90 31.94 365.58 335.47 47.18 65.49 73.16 5.48 5.23
100000 161.74 42.89 646.51 767.27 68.94 104.34 107.94 48.42 14.00
1000000 413.78 71.12 2423.24 2310.47 279.98 322.01 331.70 187.80 36.74
10000000 1099.78 83.86 5594.09 4592.99 483.83 598.49 589.86 296.11 87.27
EOD
set output 'expire.png'
set title 'expire: ns per fired timer (log scale)'
set ylabel 'ns'
plot for [i=2:8] $expire using 1:i with linespoints title columnhead(i) lw 2, \
  for [i=9:10] $expire using 1:i with lines dt 2 title columnhead(i)
$expire_l0 << EOD
N heap rbtree libevent libuv wheel callout callout-mt floor-chase floor-relink
1000 53.84 10.53 79.18 141.65 6.15 11.81 16.92 4.59 8.23
10000 68.94 7.50 94.29 221.58 6.34 12.10 15.43 5.48 5.23
100000 86.34 12.98 405.54 582.92 36.96 52.66 54.17 48.42 14.00
1000000 149.19 33.69 1497.09 2116.90 231.32 265.86 264.38 187.80 36.74
10000000 429.70 51.17 1943.48 3460.87 374.65 415.08 416.61 296.11 87.27
EOD
set output 'expire_l0.png'
set title 'expire-l0: ns per fired timer (log scale)'
set ylabel 'ns'
plot for [i=2:8] $expire_l0 using 1:i with linespoints title columnhead(i) lw 2, \
  for [i=9:10] $expire_l0 using 1:i with lines dt 2 title columnhead(i)
$idle_10s << EOD
N heap rbtree libevent libuv wheel callout callout-mt floor-chase floor-relink
1000 58.52 11.95 77.63 148.49 5.92 32.37 35.47 4.59 8.23
10000 86.09 10.57 136.63 230.08 10.59 26.12 29.75 5.48 5.23
100000 137.59 16.04 594.45 714.85 59.98 66.40 68.54 48.42 14.00
1000000 308.68 45.61 2532.93 2326.41 293.80 254.74 264.79 187.80 36.74
10000000 849.90 68.85 4485.90 4044.66 405.99 512.21 507.28 296.11 87.27
EOD
set output 'idle_10s.png'
set title 'idle-10s: ns per fired timer (log scale)'
set ylabel 'ns'
plot for [i=2:8] $idle_10s using 1:i with linespoints title columnhead(i) lw 2, \
  for [i=9:10] $idle_10s using 1:i with lines dt 2 title columnhead(i)
$idle_1h << EOD
N heap rbtree libevent libuv wheel callout callout-mt floor-chase floor-relink
1000 51.13 11.98 56.06 124.05 5.47 74.24 83.78 4.59 8.23
10000 79.10 12.10 118.67 205.99 11.15 70.80 70.61 5.48 5.23
100000 135.81 21.68 448.37 617.60 55.83 108.83 110.02 48.42 14.00
1000000 376.67 58.33 2425.13 2246.84 306.24 277.76 281.80 187.80 36.74
10000000 1178.88 105.25 6328.01 5104.74 416.83 570.28 562.43 296.11 87.27
EOD
set output 'idle_1h.png'
set title 'idle-1h: ns per fired timer (log scale)'
set ylabel 'ns'
plot for [i=2:8] $idle_1h using 1:i with linespoints title columnhead(i) lw 2, \
  for [i=9:10] $idle_1h using 1:i with lines dt 2 title columnhead(i)
$idle_1d << EOD
N heap rbtree libevent libuv wheel callout callout-mt floor-chase floor-relink
1000 41.34 12.66 51.22 89.03 8.70 99.58 101.66 4.59 8.23
10000 60.92 12.30 69.00 149.77 7.41 91.45 90.14 5.48 5.23
100000 96.47 28.06 157.59 262.21 22.65 116.14 113.09 48.42 14.00
1000000 183.47 51.32 912.00 923.67 120.48 238.93 235.03 187.80 36.74
10000000 514.57 69.87 3104.62 2745.80 288.60 344.83 348.09 296.11 87.27
EOD
set output 'idle_1d.png'
set title 'idle-1d: ns per fired timer (log scale)'
set ylabel 'ns'
plot for [i=2:8] $idle_1d using 1:i with linespoints title columnhead(i) lw 2, \
  for [i=9:10] $idle_1d using 1:i with lines dt 2 title columnhead(i)
$next << EOD
N heap rbtree libevent libuv wheel callout callout-mt floor-chase floor-relink
1000 2.24 2.78 ? 4.11 2.96 ? ? 4.59 8.23
10000 2.16 2.83 ? 3.78 3.11 ? ? 5.48 5.23
100000 2.12 2.76 ? 3.68 3.09 ? ? 48.42 14.00
1000000 2.28 2.64 ? 4.58 3.46 ? ? 187.80 36.74
10000000 2.13 2.67 ? 4.71 3.62 ? ? 296.11 87.27
EOD
set output 'next.png'
set title 'next: ns per operation (log scale)'
set ylabel 'ns'
plot for [i=2:8] $next using 1:i with linespoints title columnhead(i) lw 2, \
  for [i=9:10] $next using 1:i with lines dt 2 title columnhead(i)
$trace << EOD
N heap rbtree libevent libuv wheel callout callout-mt floor-chase floor-relink
EOD
set output 'trace.png'
unset logscale
set style data histogram
set style fill solid
set xlabel ''
set ylabel 'ns per operation'
unset key
set title 'trace replay (linux-tcp-500conn), ns per operation'
$trace_bars << EOD
heap 14.80
rbtree 59.20
libevent 30.48
libuv 53.32
wheel 4.01
callout 6.39
callout-mt 11.70
EOD
plot $trace_bars using 2:xtic(1)
set logscale xy
set key outside right
set style data linespoints

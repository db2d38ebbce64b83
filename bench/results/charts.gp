# Made by bench; run with gnuplot in bench/results.
set terminal pngcairo size 900,600 noenhanced
set logscale xy
set grid
set key outside right
set datafile missing '?'
set xlabel 'N pending timers'
$fill << EOD
N heap rbtree libevent libuv wheel callout callout-mt floor-chase floor-relink
1000 14.79 66.91 40.83 49.55 5.62 14.59 15.75 4.64 8.13
10000 14.08 93.99 34.81 55.19 3.95 11.78 15.36 5.47 5.16
100000 15.02 174.40 41.35 69.93 4.52 15.00 16.08 44.95 13.31
1000000 16.29 620.15 59.00 96.21 8.07 23.79 34.27 203.65 39.97
10000000 20.75 2300.74 67.75 111.35 8.32 24.29 32.34 332.70 94.26
EOD
set output 'fill.png'
set title 'fill: ns per operation (log scale)'
set ylabel 'ns'
plot for [i=2:8] $fill using 1:i with linespoints title columnhead(i) lw 2, \
  for [i=9:10] $fill using 1:i with lines dt 2 title columnhead(i)
$fill_log << EOD
N heap rbtree libevent libuv wheel callout callout-mt floor-chase floor-relink
1000 12.44 65.08 33.79 47.77 5.27 13.52 15.83 4.64 8.13
10000 13.49 98.03 35.49 57.17 4.11 11.84 14.49 5.47 5.16
100000 13.94 172.57 42.37 67.71 4.42 13.79 15.48 44.95 13.31
1000000 16.00 613.01 54.22 94.59 6.52 23.60 32.28 203.65 39.97
10000000 20.01 2408.80 64.38 111.53 8.46 24.07 32.35 332.70 94.26
EOD
set output 'fill_log.png'
set title 'fill-log: ns per operation (log scale)'
set ylabel 'ns'
plot for [i=2:8] $fill_log using 1:i with linespoints title columnhead(i) lw 2, \
  for [i=9:10] $fill_log using 1:i with lines dt 2 title columnhead(i)
$hot << EOD
N heap rbtree libevent libuv wheel callout callout-mt floor-chase floor-relink
1000 3.14 16.93 14.43 11.97 3.65 9.08 11.68 4.64 8.13
10000 4.12 26.51 15.14 23.08 3.32 8.95 12.12 5.47 5.16
100000 4.08 49.89 14.79 29.30 3.47 8.96 11.65 44.95 13.31
1000000 4.75 86.44 15.37 40.68 3.89 9.02 11.85 203.65 39.97
10000000 2.90 227.57 13.52 36.86 3.30 9.38 11.84 332.70 94.26
EOD
set output 'hot.png'
set title 'hot: ns per operation (log scale)'
set ylabel 'ns'
plot for [i=2:8] $hot using 1:i with linespoints title columnhead(i) lw 2, \
  for [i=9:10] $hot using 1:i with lines dt 2 title columnhead(i)
$rearm << EOD
N heap rbtree libevent libuv wheel callout callout-mt floor-chase floor-relink
1000 11.17 89.49 41.88 63.77 4.83 11.76 14.23 4.64 8.13
10000 15.08 136.73 51.01 84.16 5.45 13.77 16.57 5.47 5.16
100000 27.24 342.75 154.38 232.67 15.00 33.59 38.39 44.95 13.31
1000000 69.51 1297.71 532.83 789.54 38.72 142.84 215.06 203.65 39.97
10000000 134.39 3324.22 798.45 1170.28 83.38 200.53 236.75 332.70 94.26
EOD
set output 'rearm.png'
set title 'rearm: ns per operation (log scale)'
set ylabel 'ns'
plot for [i=2:8] $rearm using 1:i with linespoints title columnhead(i) lw 2, \
  for [i=9:10] $rearm using 1:i with lines dt 2 title columnhead(i)
$cancel_arm << EOD
N heap rbtree libevent libuv wheel callout callout-mt floor-chase floor-relink
1000 11.95 46.04 26.11 33.66 3.51 9.64 12.28 4.64 8.13
10000 15.05 69.57 30.95 43.82 3.05 9.81 12.51 5.47 5.16
100000 23.30 168.77 92.74 130.37 8.02 25.01 28.35 44.95 13.31
1000000 56.44 573.32 328.28 491.13 17.75 140.49 157.00 203.65 39.97
10000000 139.19 1605.16 471.17 656.76 41.02 165.88 189.97 332.70 94.26
EOD
set output 'cancel_arm.png'
set title 'cancel+arm: ns per operation (log scale)'
set ylabel 'ns'
plot for [i=2:8] $cancel_arm using 1:i with linespoints title columnhead(i) lw 2, \
  for [i=9:10] $cancel_arm using 1:i with lines dt 2 title columnhead(i)
$tcp << EOD
N heap rbtree libevent libuv wheel callout callout-mt floor-chase floor-relink
1000 11.30 58.72 37.07 51.92 6.51 13.84 16.71 4.64 8.13
10000 12.76 70.54 41.15 59.61 5.52 13.00 15.95 5.47 5.16
100000 18.97 105.05 133.51 184.70 8.31 21.13 24.35 44.95 13.31
1000000 36.48 229.90 478.94 597.26 21.27 88.99 95.05 203.65 39.97
10000000 107.43 386.05 880.83 981.95 60.84 135.14 153.83 332.70 94.26
EOD
set output 'tcp.png'
set title 'tcp: ns per operation (log scale)'
set ylabel 'ns'
plot for [i=2:8] $tcp using 1:i with linespoints title columnhead(i) lw 2, \
  for [i=9:10] $tcp using 1:i with lines dt 2 title columnhead(i)
$expire << EOD
N heap rbtree libevent libuv wheel callout callout-mt floor-chase floor-relink
1000 74.15 32.94 318.74 279.06 49.10 76.73 82.95 4.64 8.13
10000 104.16 31.69 372.16 338.52 46.77 67.26 71.08 5.47 5.16
100000 160.70 40.92 648.22 736.41 69.31 96.84 101.23 44.95 13.31
1000000 411.97 74.29 2864.24 2827.60 344.69 485.33 441.24 203.65 39.97
10000000 1196.36 89.12 5883.48 4772.85 567.09 718.10 651.09 332.70 94.26
EOD
set output 'expire.png'
set title 'expire: ns per fired timer (log scale)'
set ylabel 'ns'
plot for [i=2:8] $expire using 1:i with linespoints title columnhead(i) lw 2, \
  for [i=9:10] $expire using 1:i with lines dt 2 title columnhead(i)
$expire_l0 << EOD
N heap rbtree libevent libuv wheel callout callout-mt floor-chase floor-relink
1000 53.40 10.88 74.41 145.51 5.75 11.68 16.61 4.64 8.13
10000 73.29 7.44 95.80 219.22 6.35 12.57 15.15 5.47 5.16
100000 85.45 13.54 387.81 594.74 34.02 49.41 51.28 44.95 13.31
1000000 165.70 39.07 1620.40 2488.73 279.22 345.45 339.05 203.65 39.97
10000000 429.48 52.16 2004.92 3634.78 438.16 490.36 483.28 332.70 94.26
EOD
set output 'expire_l0.png'
set title 'expire-l0: ns per fired timer (log scale)'
set ylabel 'ns'
plot for [i=2:8] $expire_l0 using 1:i with linespoints title columnhead(i) lw 2, \
  for [i=9:10] $expire_l0 using 1:i with lines dt 2 title columnhead(i)
$idle_10s << EOD
N heap rbtree libevent libuv wheel callout callout-mt floor-chase floor-relink
1000 58.45 11.11 74.25 145.08 5.84 32.66 35.50 4.64 8.13
10000 89.47 10.40 132.93 249.14 10.36 26.52 29.37 5.47 5.16
100000 132.36 16.73 582.78 710.82 56.49 61.42 63.50 44.95 13.31
1000000 342.65 45.68 2597.08 2603.69 311.74 283.88 319.54 203.65 39.97
10000000 940.79 62.18 4457.53 4519.46 467.98 591.92 604.45 332.70 94.26
EOD
set output 'idle_10s.png'
set title 'idle-10s: ns per fired timer (log scale)'
set ylabel 'ns'
plot for [i=2:8] $idle_10s using 1:i with linespoints title columnhead(i) lw 2, \
  for [i=9:10] $idle_10s using 1:i with lines dt 2 title columnhead(i)
$idle_1h << EOD
N heap rbtree libevent libuv wheel callout callout-mt floor-chase floor-relink
1000 51.00 11.38 55.80 111.80 5.38 72.22 75.56 4.64 8.13
10000 84.19 12.40 102.89 209.90 9.54 72.33 72.41 5.47 5.16
100000 137.35 20.55 426.50 617.89 48.77 101.64 104.37 44.95 13.31
1000000 392.49 61.18 2617.83 2659.44 315.59 324.92 304.89 203.65 39.97
10000000 1442.66 103.12 6681.90 5679.36 483.16 651.25 635.81 332.70 94.26
EOD
set output 'idle_1h.png'
set title 'idle-1h: ns per fired timer (log scale)'
set ylabel 'ns'
plot for [i=2:8] $idle_1h using 1:i with linespoints title columnhead(i) lw 2, \
  for [i=9:10] $idle_1h using 1:i with lines dt 2 title columnhead(i)
$idle_1d << EOD
N heap rbtree libevent libuv wheel callout callout-mt floor-chase floor-relink
1000 42.62 12.64 51.98 91.75 8.80 98.14 100.94 4.64 8.13
10000 64.91 11.62 67.01 143.22 6.69 94.33 96.32 5.47 5.16
100000 97.42 28.42 164.61 247.97 23.33 125.01 110.96 44.95 13.31
1000000 177.53 46.30 1096.98 900.86 113.60 250.43 237.49 203.65 39.97
10000000 596.35 70.11 3218.75 2724.05 304.96 363.19 360.90 332.70 94.26
EOD
set output 'idle_1d.png'
set title 'idle-1d: ns per fired timer (log scale)'
set ylabel 'ns'
plot for [i=2:8] $idle_1d using 1:i with linespoints title columnhead(i) lw 2, \
  for [i=9:10] $idle_1d using 1:i with lines dt 2 title columnhead(i)
$next << EOD
N heap rbtree libevent libuv wheel callout callout-mt floor-chase floor-relink
1000 2.40 2.59 ? 4.14 3.29 ? ? 4.64 8.13
10000 2.22 2.50 ? 4.02 3.33 ? ? 5.47 5.16
100000 2.09 2.46 ? 4.00 3.34 ? ? 44.95 13.31
1000000 2.27 2.61 ? 4.09 3.30 ? ? 203.65 39.97
10000000 2.28 2.80 ? 3.92 3.43 ? ? 332.70 94.26
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
heap 14.13
rbtree 55.84
libevent 29.45
libuv 51.48
wheel 3.92
callout 10.37
callout-mt 13.06
EOD
plot $trace_bars using 2:xtic(1)
set logscale xy
set key outside right
set style data linespoints

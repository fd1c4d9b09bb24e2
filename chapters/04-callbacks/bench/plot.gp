# Nanoseconds per timer against N, one line per implementation.
# Called by run_bench.py with dat, png and names set.
set terminal pngcairo size 800,480 font "sans,11"
set output png
set title "Arm and fire N timers with random deadlines"
set xlabel "N timers"
set ylabel "ns per timer (log)"
set logscale xy
set xrange [500:2000000]
set format x "10^{%L}"
set key top left
set grid
plot for [i=1:words(names)] dat index (i-1) using 1:2 with linespoints \
     lw 2 pt 7 title word(names, i)

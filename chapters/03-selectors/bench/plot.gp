# Plot bench-selector's CSV: cost of one wait against the number of watched
# descriptors, log-log, our selector layer (solid) and the bare system call
# (dashed) for each backend. Run by `make bench`:
#   gnuplot -e "csv='build/bench-selector.csv'; png='build/bench-selector.png'" bench/plot.gp
set terminal png size 800,520 noenhanced
set output png
set datafile separator ","
set logscale xy
set xlabel "descriptors watched (one ready)"
set ylabel "one wait (microseconds)"
set key top left font ",9"
set grid
set title "select / poll / epoll: cost of one wait"
set xrange [5:20000]
# The Linux Programming Interface, Table 63-9 (Linux 2.6.25, 2010), as
# quoted in CHAPTER.md: seconds of CPU for 100,000 waits, here per wait in
# microseconds (x 10). Columns: N, poll, select, epoll.
$TLPI << EOD
10,6.1,7.3,4.1
100,29,30,4.2
1000,350,350,5.3
10000,9900,9300,6.6
EOD
plot \
  "< awk -F, '$2==\"select\"' ".csv using 1:($3/1000) with linespoints lw 2 lc rgb "#c0392b" title "select (selector)", \
  "< awk -F, '$2==\"select\"' ".csv using 1:($4/1000) with lines dt 2 lc rgb "#c0392b" title "select (bare call)", \
  "< awk -F, '$2==\"poll\"' ".csv using 1:($3/1000) with linespoints lw 2 lc rgb "#2471a3" title "poll (selector)", \
  "< awk -F, '$2==\"poll\"' ".csv using 1:($4/1000) with lines dt 2 lc rgb "#2471a3" title "poll (bare call)", \
  "< awk -F, '$2==\"epoll\"' ".csv using 1:($3/1000) with linespoints lw 2 lc rgb "#1e8449" title "epoll (selector)", \
  "< awk -F, '$2==\"epoll\"' ".csv using 1:($4/1000) with lines dt 2 lc rgb "#1e8449" title "epoll (bare call)", \
  $TLPI using 1:3 with points pt 6 ps 1.5 lc rgb "#c0392b" title "select, TLPI 63-9", \
  $TLPI using 1:2 with points pt 8 ps 1.5 lc rgb "#2471a3" title "poll, TLPI 63-9", \
  $TLPI using 1:4 with points pt 4 ps 1.5 lc rgb "#1e8449" title "epoll, TLPI 63-9"

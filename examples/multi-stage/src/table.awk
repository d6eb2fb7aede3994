# Formats "name,count" lines as an aligned table and appends their total.
{ printf "%-8s %5d\n", $1, $2; total += $2 }
END { printf "%-8s %5d\n", "total", total }

#!/bin/bash
# Runs lighttpd with /etc/lighttpd/status-page.conf.
#   status-page serve   serve in the foreground until stopped
#   status-page check   start the server, print the status line and body of /, then stop
set -euo pipefail
config=/etc/lighttpd/status-page.conf

case ${1:-serve} in
  serve)
    exec lighttpd -D -f "$config"
    ;;
  check) ;;
  *)
    echo "status-page: invalid command '$1'; expected serve or check" >&2
    exit 2
    ;;
esac

lighttpd -D -f "$config" &
server=$!
trap 'kill "$server"; wait "$server" || true' EXIT

# bash's /dev/tcp is the HTTP client, so the image needs no curl or wget.
for ((tries = 0; ; tries++)); do
  exec 3<>/dev/tcp/127.0.0.1/8080 2>/dev/null && break
  if ((tries == 50)); then
    echo "status-page: lighttpd did not accept connections on port 8080 within 5 seconds" >&2
    exit 1
  fi
  sleep 0.1
done
printf 'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
response=$(cat <&3)
exec 3<&-

status=${response%%$'\r\n'*}
echo "$status"
echo "${response#*$'\r\n\r\n'}"

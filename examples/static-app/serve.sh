#!/bin/sh
# Serves the working directory with busybox httpd.
#   serve [--port PORT]   serve in the foreground until stopped (PORT defaults to 8080)
#   serve --get PATH      serve on loopback, print the body of PATH, then stop
set -eu
port=8080
get=
while [ $# -gt 0 ]; do
  case $1 in
    --port) port=$2; shift 2 ;;
    --get) get=$2; shift 2 ;;
    *) echo "serve: invalid argument '$1'" >&2; exit 2 ;;
  esac
done

if [ -z "$get" ]; then
  echo "serving $(pwd) on port $port"
  # As PID 1, httpd would ignore SIGTERM (it sets no handler), so the shell traps the signal
  # and stops it.
  httpd -f -p "$port" -h . &
  server=$!
  trap 'kill "$server"; wait "$server" || true; exit 0' TERM INT
  wait "$server"
  exit
fi

httpd -f -p "127.0.0.1:$port" -h . &
server=$!
trap 'kill "$server"' EXIT
tries=0
until body=$(wget -q -O - "http://127.0.0.1:$port$get" 2>&1); do
  # wget also fails on an HTTP error status, which no retry changes.
  case $body in *"server returned error"*) echo "serve: $get: ${body#*error: }" >&2; exit 1 ;; esac
  tries=$((tries + 1))
  [ "$tries" -lt 50 ] || { echo "serve: httpd did not respond on port $port within 5 seconds" >&2; exit 1; }
  sleep 0.1
done
printf '%s\n' "$body"

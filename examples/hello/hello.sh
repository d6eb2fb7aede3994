#!/bin/sh
# Prints the greeting; with --check it only reports success, for HEALTHCHECK.
[ "$1" = "--check" ] && exit 0
echo "$GREETING"

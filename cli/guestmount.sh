#!/bin/sh
# guestmount as installed. For the usual quiet forking mount this starts the daemon
# (guestmount.js --no-fork) itself and waits for its word on descriptor 3, so a mount costs one
# Node start instead of two (the Node front's start was a third of the time to "ready").
# Anything else (--help, -v, -x, --timings, --fd, --no-fork) goes to the Node command as is.
# The daemon checks every option itself and sends back "ready", or "error MESSAGE" and, for a
# usage error, the usage text.
here=$(dirname "$(readlink -f "$0")")
node=${GUESTKIT_NODE:-node}
quiet=1
for a in "$@"; do
  case $a in
    --no-fork | --help | --version | --verbose | --trace | --timings | --fd | --fd=* | --) quiet= ;;
    --*) ;;
    # A short option cluster that might hold -v, -x, -h or -V: let the Node front decide.
    -*[vxhV]*) quiet= ;;
  esac
done
[ -n "$quiet" ] || exec "$node" "$here/guestmount.js" "$@"

# setsid: the daemon outlives this script and the terminal's job control.
said=$(GUESTMOUNT_READY_FD=3 setsid "$node" "$here/guestmount.js" "$@" --no-fork 3>&1 >/dev/null 2>&1 </dev/null &)
case $said in
  ready*) exit 0 ;;
  error\ *)
    rest=${said#error }
    printf 'guestmount: %s\n' "${rest%%
*}" >&2
    case $rest in *'
'*) printf '%s\n' "${rest#*
}" >&2 ;; esac
    ;;
  *) echo 'guestmount: the daemon exited before the mount was ready' >&2 ;;
esac
exit 1

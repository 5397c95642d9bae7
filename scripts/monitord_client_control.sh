#!/bin/sh
# one-hybrid's monitord-client_control.sh (OpenNebula 5.12 and later), written for this driver;
# scripts/build.ts puts it into dist/im/<name>.d/ and install.sh makes it executable there.
# OpenNebula's run_monitord_client runs it from that directory, and stop_monitord_client with
# "stop" first, both with the host's monitoring configuration on stdin:
#
#   monitord-client_control.sh [stop] <name> <host id> <host name>
#
# start (the default) starts OpenNebula's own monitord client (monitord-client.rb, which
# install.sh copied beside this script from the OpenNebula it installed into) in the background
# for the host, relays the client's first report (every probe run once) and exits; the client
# then keeps sending the probes' reports to monitord. stop ends the host's client.
#
# What OpenNebula's own control scripts do not do for a driver of another name:
# - one_im_sh's actions are local, so the input arrives base64-encoded; 5.12-6.x's client
#   decodes it only for the names in its LOCAL_HYPERVISOR list, 7.x's for none. The client gets
#   the XML here (or the base64 when its list names this driver).
# - MONITOR_ADDRESS "auto" makes the client send to the address in SSH_CLIENT (the ssh peer
#   of a remote host) unless its list names the driver. The probes run on the front-end, beside
#   monitord, so the client gets SSH_CLIENT="127.0.0.1 0 0": an SSH_CLIENT inherited from a
#   shell that started OpenNebula names that shell's peer, never monitord.
# - A client that dies before its first report (the cloud unreachable, a probe directory
#   missing, a Ruby error) puts the host in ERROR with its reason (see the end), instead of
#   leaving it in INIT or in ERROR without one.
# The client's pid goes to /tmp/one-monitord-<host id>.pid and its early errors to
# /tmp/one-monitord-<host id>.error, where OpenNebula's shepherd (host/beacon) looks for them.

me="monitord-client_control.sh"
fail() {
  echo "$me: $1" >&2
  exit 1
}

action=start
if [ "${1-}" = stop ]; then
  action=stop
  shift
fi
name=${1-}
hid=${2-}
host=${3-}
case $hid in
'' | *[!0-9]*) fail "expected [stop] <name> <host id> <host name>, not \"$*\"" ;;
esac
case $0 in */*) here=${0%/*} ;; *) here=. ;; esac
here=$(CDPATH= cd -- "$here" && pwd) || fail "cannot enter the directory of $0"
client=$here/monitord-client.rb
# The client's command line ends with this: how stop (and OpenNebula's shepherd) find it.
key="$client $*"
pid_file=/tmp/one-monitord-$hid.pid
error_file=/tmp/one-monitord-$hid.error

# Prints the pids of the processes running this host's client from this directory.
client_pids() {
  ps -e -o pid= -o args= 2>/dev/null | while read -r pid args; do
    case "$args " in *" $key "*) echo "$pid" ;; esac
  done
}

# Ends the host's client, and the probes it is running: once started, the client leads a
# process group of its own (Process.setsid), whose id is its pid.
stop_client() {
  pids=$(client_pids)
  if [ -n "$pids" ]; then
    for pid in $pids; do
      kill -TERM "-$pid" 2>/dev/null
      kill -TERM "$pid" 2>/dev/null
    done
    # Up to 5 s for them to end (POSIX sleep takes whole seconds; most take tenths).
    if sleep 0.1 2>/dev/null; then nap=0.1 naps=50; else nap=1 naps=5; fi
    while [ -n "$(client_pids)" ] && [ $naps -gt 0 ]; do
      sleep $nap
      naps=$((naps - 1))
    done
    for pid in $(client_pids); do
      kill -KILL "-$pid" 2>/dev/null
      kill -KILL "$pid" 2>/dev/null
    done
  fi
  rm -f "$pid_file"
}

if [ $action = stop ]; then
  cat >/dev/null # the writer's input, read to the end
  stop_client
  exit 0
fi

input=$(cat)
[ -f "$client" ] ||
  fail "$client does not exist: install.sh copies it from OpenNebula's im/dummy.d; run install.sh again"
command -v ruby >/dev/null 2>&1 || fail "ruby is not on the PATH ($PATH): OpenNebula's monitord client needs it"

# 5.12-6.x's client decodes the input itself for the names in its LOCAL_HYPERVISOR list.
# Its list is %w[az ec2 one packet] (5.12-6.0) or ['az', 'ec2', 'one', 'equinix'] (6.x).
decodes=$(sed -n 's/^LOCAL_HYPERVISOR *= *%*w*\[\([^]]*\)\].*$/\1/p' "$client" | tr "'," '  ')
case " $decodes " in *" $name "*) decodes=yes ;; *) decodes=no ;; esac
case $input in
'<'*)
  xml=$input
  [ $decodes = no ] || input=$(printf '%s' "$xml" | base64 | tr -d '\n')
  ;;
'') fail "no monitoring configuration on stdin (OpenNebula's run_monitord_client gives it)" ;;
*)
  command -v base64 >/dev/null 2>&1 || fail "base64 is not on the PATH ($PATH): it decodes the monitoring configuration"
  xml=$(printf '%s' "$input" | tr -d ' \t\r\n' | base64 -d 2>/dev/null)
  case $xml in
  '<'*) ;;
  *) fail "the monitoring configuration on stdin is neither XML nor base64 of it" ;;
  esac
  ;;
esac
[ $decodes = yes ] || input=$xml

stop_client
SSH_CLIENT="127.0.0.1 0 0"
export SSH_CLIENT
# The client's first report comes through a FIFO: reading it to its end is waiting until the
# client has run every probe once (it then puts its output elsewhere) or has died.
fifo=/tmp/one-hybrid-monitord-$hid.$$
(umask 077 && mkfifo "$fifo") || fail "cannot create the FIFO $fifo"
ruby "$client" "$@" >"$fifo" 2>"$error_file" <<EOF &
$input
EOF
pid=$!
echo "$pid" >"$pid_file"
report=$(cat "$fifo")
rm -f "$fifo"
case $(ps -p "$pid" -o args= 2>/dev/null) in
*"$client"*)
  printf '%s\n' "$report"
  exit 0
  ;;
esac
wait "$pid"
code=$?
rm -f "$pid_file"
errors=$(cat "$error_file" 2>/dev/null)
# The driver's own one-line reason, between OpenNebula's error fences in the probe's output.
reason=$(printf '%s\n' "$report" | tr '\n' ' ' | sed -n 's/.*ERROR MESSAGE --8<------ *\(.*[^ ]\) *ERROR MESSAGE ------>8--.*/\1/p' | head -n 1)
[ -n "$reason" ] || reason=$(printf '%s\n' "$report" "$errors" | sed -e 's/<[^>]*>//g' |
  tr -s '\n' ' ' | sed -e 's/^ *//' -e 's/ *$//' | cut -c1-1000)
echo "$me: OpenNebula's monitord client for host $host (id $hid) exited with status $code before its first report: $reason" >&2
# monitord takes a failed start as ERROR without its reason (HostMonitorManager::
# start_monitor_failure keeps no message), but a failed SYSTEM_HOST report as ERROR with it
# (error_monitor). So the reason is sent as that report, with OpenNebula's own client library,
# and the start answers success with no data (which changes no state): the host goes ERROR
# showing the driver's message, and monitord starts it again after MONITORING_INTERVAL_HOST.
if printf '%s' "$xml" | ruby -e '
  require "rexml/document"
  require "openssl"
  require File.join(ARGV[0], "..", "lib", "monitord_client")
  config = REXML::Document.new($stdin.read).root
  text = ->(path) { config.elements[path] ? config.elements[path].text.to_s : "" }
  address = text.call("NETWORK/MONITOR_ADDRESS")
  address = "127.0.0.1" if address.empty? || address == "auto"
  pem = text.call("NETWORK/PUBKEY").match(/-+BEGIN RSA PUBLIC KEY-+([^-]*)-+END RSA PUBLIC KEY-+/)
  key = pem && OpenSSL::PKey::RSA.new("-----BEGIN RSA PUBLIC KEY-----\n" \
    "#{pem[1].strip.tr(" ", "\n")}\n-----END RSA PUBLIC KEY-----")
  MonitorClient.new(address, text.call("NETWORK/PORT"), text.call("HOST_ID"), :pubkey => key)
    .system_host_udp(false, ARGV[1])
' "$here" "$reason" 2>>"$error_file"; then
  exit 0
fi
exit 1

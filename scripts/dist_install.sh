#!/bin/sh
# The one-hybrid installer; scripts/build.ts copies it into dist/install.sh. It needs nothing but
# the dist/ directory it sits in and a POSIX sh: no Deno, no npm cache, no network.
# Exit status: 0 installed (or --help), 1 refused (nothing changed), 2 bad command line.

USAGE='Usage: install.sh [--remotes DIR] [--name NAME] [--opennebula X.Y] [--im monitord|legacy|none]
                  [--runtime-dir DIR | --in-tree] [--host HOST] [--force] [--not-opennebula]
                  [--owner USER] [--help]
       install.sh --rollback [--remotes DIR | --runtime-dir DIR] [--name NAME]

Installs the driver built in this dist/ into OpenNebula'"'"'s remotes directory and prints the
oned.conf (and monitord.conf) lines and the onehost command for that OpenNebula release.

  --remotes DIR      OpenNebula'"'"'s remotes directory ($ONE_REMOTES, else $ONE_LOCATION/var/remotes
                     when ONE_LOCATION is set, else /var/lib/one/remotes)
  --name NAME        the driver name; must be the one dist/ was built with (the default)
  --opennebula X.Y   the OpenNebula release (default: read from DIR/VERSION, which 4.4 and
                     later have; older releases must say it, e.g. --opennebula 3.2); tested
                     with 3.2 to 7.4
  --im monitord      host probes for OpenNebula 5.12+: im/NAME.d and im/NAME-probes.d, run by
                     OpenNebula'"'"'s own monitord client, which install copies from DIR/im/dummy.d
                     (install again after upgrading OpenNebula)
  --im legacy        the host probe of OpenNebula 4.4-5.10: im/NAME.d/poll
  --im none          no host probes (the dummy IM reports the host; before 4.4 the only way)
                     (default: what the release runs)
  --runtime-dir DIR  where the driver program goes: DIR/NAME/<build>/ (default: one-hybrid
                     beside the remotes directory, /var/lib/one/one-hybrid), outside the tree
                     "onehost sync" copies to every host; the launchers in remotes run the build
                     named in DIR/NAME/current, which each install replaces with a rename
  --in-tree          keep the driver program inside remotes/vmm/NAME/.driver instead
  --host HOST        host name used in the printed onehost command (aws-us-east-1)
  --force            move directories one-hybrid did not install to NAME.backup-<UTC time>
                     instead of refusing
  --not-opennebula   install into a directory that does not look like OpenNebula'"'"'s remotes
                     (created if missing)
  --owner USER       when run as root, give the files in remotes to USER (oneadmin, if it
                     exists); the driver program stays root'"'"'s
  --rollback         install again the build that was current before the last install, with
                     that install'"'"'s options (run it again to go forward)

Exit status: 0 done, 1 refused (nothing changed), 2 bad command line.'

MARK=.one-hybrid-install
doing=install

usage_error() {
  echo "install.sh: $1 (see --help)" >&2
  exit 2
}
refuse() {
  echo "Cannot $doing: $1" >&2
  exit 1
}

if [ -n "${ONE_REMOTES-}" ]; then
  remotes=$ONE_REMOTES
elif [ -n "${ONE_LOCATION-}" ]; then
  remotes=${ONE_LOCATION%/}/var/remotes # a self-contained OpenNebula
else
  remotes=/var/lib/one/remotes
fi
name=
host=aws-us-east-1
im=
version=
force=no
foreign=no
owner=oneadmin
owner_given=no
runtime=
in_tree=no
rollback=no
while [ $# -gt 0 ]; do
  case $1 in
  --help | -h)
    echo "$USAGE"
    exit 0
    ;;
  --force) force=yes ;;
  --not-opennebula) foreign=yes ;;
  --in-tree) in_tree=yes ;;
  --rollback) rollback=yes ;;
  --remotes | --name | --host | --im | --owner | --runtime-dir | --opennebula)
    [ $# -ge 2 ] || usage_error "option $1 needs a value"
    case $1 in
    --remotes) remotes=$2 ;;
    --name) name=$2 ;;
    --host) host=$2 ;;
    --im) im=$2 ;;
    --owner) owner=$2 owner_given=yes ;;
    --runtime-dir) runtime=$2 ;;
    --opennebula) version=$2 ;;
    esac
    shift
    ;;
  --remotes=* | --name=* | --host=* | --im=* | --owner=* | --runtime-dir=* | --opennebula=*)
    value=${1#*=}
    case $1 in
    --remotes=*) remotes=$value ;;
    --name=*) name=$value ;;
    --host=*) host=$value ;;
    --im=*) im=$value ;;
    --owner=*) owner=$value owner_given=yes ;;
    --runtime-dir=*) runtime=$value ;;
    --opennebula=*) version=$value ;;
    esac
    ;;
  -*) usage_error "unknown option \"$1\"" ;;
  *) usage_error "unexpected argument \"$1\"" ;;
  esac
  shift
done
[ $rollback = no ] || doing="roll back"
[ $in_tree = no ] || [ -z "$runtime" ] || usage_error "--in-tree and --runtime-dir exclude each other"

case $im in
'' | monitord | legacy | none) ;;
*) refuse "--im must be monitord, legacy or none, not \"$im\"" ;;
esac
for value in "$remotes" "$runtime" "$host" "$owner"; do
  case $value in *[[:space:]\"\'\\\$\`]*) refuse "\"$value\": give it without spaces or quotes" ;; esac
done
case $remotes in
'') refuse "--remotes needs a directory" ;;
/*) ;;
*) remotes=$(pwd)/$remotes ;;
esac
remotes=${remotes%/}
case $runtime in
'') runtime=${remotes%/*}/one-hybrid ;;
/*) runtime=${runtime%/} ;;
*) refuse "--runtime-dir \"$runtime\": give an absolute path (the launchers name it)" ;;
esac

case $0 in */*) dist=${0%/*} ;; *) dist=. ;; esac
dist=$(cd "$dist" && pwd) || refuse "cannot enter the directory of $0"

# The driver name is baked into the build (the probes find vmm/<name>/.driver), so install the
# name dist/ was built with.
built=$(sed -n 's/^driver=//p' "$dist/BUILD_INFO" 2>/dev/null)
[ -n "$built" ] && [ -f "$dist/vmm/$built/deploy" ] ||
  refuse "$dist is not a complete build (no BUILD_INFO or vmm/<name>/deploy); run \"deno task build\" first"
if [ -z "$name" ]; then
  name=$built
elif [ "$name" != "$built" ]; then
  refuse "$dist holds the \"$built\" driver, not \"$name\"; build it with: deno task build --name $name"
fi
mode=$(sed -n 's/^mode=//p' "$dist/BUILD_INFO")
rt=$runtime/$name

# --rollback installs the previous build again, with its own installer and the options of the
# last install (kept in $rt/options): the launchers, probes and program all go back together.
if [ $rollback = yes ]; then
  now=$(cat "$rt/current" 2>/dev/null) || refuse "$rt/current does not exist: nothing installed there"
  before=$(cat "$rt/previous" 2>/dev/null)
  [ -n "$before" ] && [ -f "$rt/$before/install.sh" ] || refuse "$rt has no earlier build to go back to"
  options=$(cat "$rt/options" 2>/dev/null) || refuse "$rt/options does not exist: install again instead"
  echo "Rolling back $rt from $now to $before"
  # shellcheck disable=SC2086 # the options are words without spaces, as written by install
  exec sh "$rt/$before/install.sh" $options
fi

# A mistyped --remotes must fail, not grow a new tree beside OpenNebula's.
if [ $foreign = no ]; then
  if [ ! -d "$remotes/vmm" ] || [ ! -d "$remotes/im" ] ||
    { [ ! -f "$remotes/scripts_common.sh" ] && [ ! -d "$remotes/vmm/kvm" ] && [ ! -d "$remotes/etc" ]; }; then
    refuse "$remotes does not look like OpenNebula's remotes directory (it needs vmm/, im/ and one of scripts_common.sh, vmm/kvm/, etc/); check --remotes, or pass --not-opennebula to install there anyway"
  fi
fi

# The release decides the host probes and what to print. remotes/VERSION exists from 4.4 on.
if [ -z "$version" ]; then
  if [ -f "$remotes/VERSION" ]; then
    version=$(sed -n 1p "$remotes/VERSION" | tr -d '[:space:]')
  elif [ $foreign = yes ]; then
    version=6.0
  else
    refuse "$remotes has no VERSION file, so OpenNebula is older than 4.4: say which release with --opennebula (e.g. 3.2, 3.8, 4.2)"
  fi
fi
major=${version%%.*}
minor=${version#*.}
minor=${minor%%.*}
case $major.$minor in
*[!0-9.]* | .* | *.) refuse "--opennebula \"$version\": give a release such as 3.2, 4.14 or 6.0" ;;
esac
release=$((major * 100 + minor))
[ $release -ge 302 ] || refuse "OpenNebula $version is older than the releases this driver supports (3.2 and later)"
[ $release -le 704 ] ||
  echo "install.sh: warning: OpenNebula $version is newer than the releases this driver was tested with (3.2 to 7.4); installing as for 7.4" >&2
if [ -z "$im" ]; then
  if [ $release -ge 512 ]; then
    im=monitord
  elif [ $release -ge 404 ]; then
    im=legacy
  else
    im=none
  fi
elif [ $im = monitord ] && [ $release -lt 512 ]; then
  refuse "--im monitord needs OpenNebula 5.12 or later, not $version (4.4-5.10: --im legacy)"
elif [ $im = legacy ] && { [ $release -lt 404 ] || [ $release -ge 512 ]; }; then
  refuse "--im legacy is for OpenNebula 4.4 to 5.10, not $version (5.12 and later: --im monitord; before 4.4: --im none)"
fi

# 5.12+'s host probes are run by OpenNebula's own monitord client, which our control script
# starts. OpenNebula's install.sh copies the client into each driver's im/<driver>.d (there is no
# im/common.d in an installed tree), and its shepherd into the local drivers' host/beacon; this
# installation copies them from there, as files: the client needs ../lib/ beside it.
client= shepherd=
if [ $im = monitord ]; then
  for d in dummy kvm; do
    f=$remotes/im/$d.d/monitord-client.rb
    [ "$d" = "$name" ] || [ ! -f "$f" ] || { client=$f && break; }
  done
  for d in dummy ec2; do
    f=$remotes/im/$d-probes.d/host/beacon/monitord-client-shepherd_local.sh
    [ "$d" = "$name" ] || [ ! -f "$f" ] || { shepherd=$f && break; }
  done
  missing=
  [ -n "$client" ] || missing="$missing, im/dummy.d/monitord-client.rb (or im/kvm.d/)"
  [ -n "$shepherd" ] ||
    missing="$missing, im/dummy-probes.d/host/beacon/monitord-client-shepherd_local.sh (or im/ec2-probes.d/)"
  for f in monitord_client.rb probe_db.rb; do
    [ -f "$remotes/im/lib/$f" ] || missing="$missing, im/lib/$f"
  done
  if [ -z "$missing" ]; then
    :
  elif [ $foreign = no ]; then
    refuse "$remotes has no ${missing#, }, which OpenNebula $version installs and its monitord client needs to run the host probes; check --remotes, or use --im none (OpenNebula's dummy IM reports the host)"
  else
    echo "install.sh: warning: $remotes has no ${missing#, } (--not-opennebula): the host probes will not run until this is installed again into OpenNebula's remotes" >&2
  fi
fi

# What this installation writes, and what it removes of an earlier installation of its own.
targets="$remotes/vmm/$name"
case $im in
monitord) targets="$targets $remotes/im/$name.d $remotes/im/$name-probes.d" ;;
legacy) targets="$targets $remotes/im/$name.d" ;;
esac
stale=
[ $im = legacy ] && stale="$remotes/im/$name-probes.d"
[ $im = none ] && stale="$remotes/im/$name.d $remotes/im/$name-probes.d"

# Everything is checked before anything changes.
conflicts=
for t in $targets; do
  if [ -e "$t" ] || [ -L "$t" ]; then
    [ -d "$t" ] && [ ! -L "$t" ] && [ -f "$t/$MARK" ] || conflicts="$conflicts $t"
  fi
done
if [ -n "$conflicts" ] && [ $force = no ]; then
  refuse "one-hybrid did not install$conflicts; --force moves it to <path>.backup-<UTC time> first"
fi
stamp=$(date -u +%Y%m%dT%H%M%SZ)
if [ $in_tree = no ]; then
  # The build's time names it: 2026-11-30T09:06:12.848Z becomes 20261130T090612848Z.
  build=$(sed -n 's/^built=//p' "$dist/BUILD_INFO" | tr -cd 'A-Za-z0-9')
  [ -n "$build" ] || refuse "$dist/BUILD_INFO has no built= line; run \"deno task build\" again"
  if [ -e "$rt" ] && [ ! -f "$rt/$MARK" ] && [ -n "$(ls -A "$rt" 2>/dev/null)" ]; then
    refuse "$rt exists and one-hybrid did not make it; give another --runtime-dir"
  fi
  if [ -e "$rt/$build" ] && [ ! -f "$rt/$build/$MARK" ]; then
    refuse "$rt/$build exists and one-hybrid did not install it"
  fi
fi
for t in $conflicts; do
  [ ! -e "$t.backup-$stamp" ] || refuse "$t.backup-$stamp exists already; try again in a second"
done
if [ "$(id -u)" = 0 ] && id "$owner" >/dev/null 2>&1; then
  group=$(id -gn "$owner")
  chown_to="$owner:$group"
elif [ $owner_given = yes ] && [ "$(id -u)" = 0 ]; then
  refuse "--owner $owner: no such user"
else
  chown_to=
fi

staged=
cleanup() {
  for s in $staged; do rm -rf "$s"; done
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# Writes the install mark into a staged directory.
mark() { # directory
  {
    echo "installed by one-hybrid's install.sh on $stamp from $dist"
    cat "$dist/BUILD_INFO"
  } >"$1/$MARK" || refuse "cannot write $1/$MARK"
}

# Copies one part of dist/ into a staging directory beside its target; the switch is a rename.
stage() { # target, then what to copy into it (paths relative to $dist)
  target=$1
  shift
  s="$target.installing-$$"
  staged="$staged $s"
  mkdir -p "$s" || refuse "cannot create $s"
  for item in "$@"; do
    cp -pRP "$dist/$item" "$s/" || refuse "cannot copy $dist/$item to $s"
  done
  mark "$s"
}

# Points a staged directory's launchers at the program in the runtime directory: each reads the
# current build's name (a shell builtin, no process) instead of going through remotes.
point_launchers() { # staged directory
  for f in $(find "$1" -type f ! -name "$MARK" ! -name 'monitord-client*' -exec grep -l '^driver=' {} +); do
    while IFS= read -r line || [ -n "$line" ]; do
      case $line in
      driver=*)
        echo "read -r build <\"$rt/current\" || { echo \"one-hybrid: no driver program: $rt/current is missing; install again\" >&2; exit 1; }"
        echo "driver=\"$rt/\$build/vmm/$name/.driver\""
        ;;
      *) printf '%s\n' "$line" ;;
      esac
    done <"$f" >"$f.new" && chmod 755 "$f.new" && mv "$f.new" "$f" || refuse "cannot write $f"
  done
}

mkdir -p "$remotes/vmm" || refuse "cannot create $remotes/vmm"
[ $im = none ] || mkdir -p "$remotes/im" || refuse "cannot create $remotes/im"
if [ $in_tree = no ]; then
  # The whole build goes into the runtime directory once (program, launchers, this installer),
  # so that --rollback can install it again; it stays root's when root installs.
  if [ ! -d "$rt/$build" ]; then
    mkdir -p "$rt" && chmod 755 "$rt" || refuse "cannot create $rt"
    [ -f "$rt/$MARK" ] || mark "$rt"
    stage "$rt/$build" $(cd "$dist" && ls -A)
    mv "$rt/$build.installing-$$" "$rt/$build" || refuse "cannot move $rt/$build.installing-$$ to $rt/$build"
  fi
  stage "$remotes/vmm/$name" $(cd "$dist/vmm/$name" && ls -A | grep -vx '\.driver' | sed "s|^|vmm/$name/|")
else
  stage "$remotes/vmm/$name" $(cd "$dist/vmm/$name" && ls -A | sed "s|^|vmm/$name/|")
fi
case $im in
monitord)
  # Our control script is executable only here: 4.4-5.10's one_im_sh runs every executable of
  # im/<name>.d, so dist/ does not make it one. OpenNebula's client must not be one: its
  # run_monitord_client runs every executable there too.
  stage "$remotes/im/$name.d" "im/$name.d/monitord-client_control.sh"
  chmod 755 "$s/monitord-client_control.sh" || refuse "cannot make $s/monitord-client_control.sh executable"
  if [ -n "$client" ]; then
    cp "$client" "$s/monitord-client.rb" && chmod 644 "$s/monitord-client.rb" ||
      refuse "cannot copy $client to $s"
  fi
  stage "$remotes/im/$name-probes.d" $(cd "$dist/im/$name-probes.d" && ls -A | sed "s|^|im/$name-probes.d/|")
  if [ -n "$shepherd" ]; then
    cp "$shepherd" "$s/host/beacon/monitord-client-shepherd_local.sh" &&
      chmod 755 "$s/host/beacon/monitord-client-shepherd_local.sh" || refuse "cannot copy $shepherd to $s"
  fi
  ;;
legacy) stage "$remotes/im/$name.d" "im/$name.d/poll" ;;
esac
for s in $staged; do
  case $s in "$rt/"*) continue ;; esac
  [ $in_tree = yes ] || point_launchers "$s"
  [ -z "$chown_to" ] || chown -R "$chown_to" "$s" || refuse "cannot give $s to $chown_to"
done

# Each directory is switched by two renames (the old one aside, the new one in), so an action
# starting meanwhile finds one or the other.
for t in $targets; do
  case " $conflicts " in
  *" $t "*)
    mv "$t" "$t.backup-$stamp" || refuse "cannot move $t to $t.backup-$stamp"
    echo "Moved $t (not installed by one-hybrid) to $t.backup-$stamp"
    ;;
  *) [ ! -d "$t" ] || mv "$t" "$t.replaced-$$" || refuse "cannot move the earlier installation $t aside" ;;
  esac
  mv "$t.installing-$$" "$t" || refuse "cannot move $t.installing-$$ to $t"
  rm -rf "$t.replaced-$$"
done
staged=
for t in $stale; do
  [ ! -f "$t/$MARK" ] || rm -rf "$t"
done

echo "Installed the $name driver ($mode build) into $remotes/vmm/$name"
if [ $in_tree = no ]; then
  # "current" is a plain file naming the build; replacing it is one rename (POSIX mv of a file).
  was=$(cat "$rt/current" 2>/dev/null)
  [ ! -L "$rt/current" ] || { rm -f "$rt/current" && was=; } # an earlier layout's link
  [ "$was" != "$build" ] || was=
  echo "$build" >"$rt/current.new-$$" && chmod 644 "$rt/current.new-$$" &&
    mv "$rt/current.new-$$" "$rt/current" || refuse "cannot write $rt/current"
  if [ -n "$was" ]; then
    echo "$was" >"$rt/previous" && chmod 644 "$rt/previous"
  fi
  {
    printf '%s' "--remotes $remotes --name $name --opennebula $version --im $im"
    printf '%s' " --runtime-dir $runtime --host $host"
    [ $owner_given = no ] || printf '%s' " --owner $owner"
    [ $foreign = no ] || printf '%s' " --not-opennebula"
    echo
  } >"$rt/options" || refuse "cannot write $rt/options"
  echo "Driver program: $rt/$build, named in $rt/current${was:+ (was $was; --rollback goes back)}"
  # Builds other than the current and the previous one are removed (each holds a runtime).
  keep=$(cat "$rt/previous" 2>/dev/null)
  for old in "$rt"/*/"$MARK"; do
    old=${old%/"$MARK"}
    old=${old##*/}
    [ -d "$rt/$old" ] && [ "$old" != "$build" ] && [ "$old" != "$keep" ] || continue
    rm -rf "${rt:?}/$old" && echo "Removed the older build $rt/$old"
  done
fi

# What to add to OpenNebula's configuration, in the release's own syntax (read in each release's
# share/etc/oned.conf, monitord.conf, one_vmm_exec.rb, one_im_exec.rb and src/cli/onehost).
# A self-contained OpenNebula (ONE_LOCATION) keeps its configuration in $ONE_LOCATION/etc, its
# remotes in $ONE_LOCATION/var/remotes.
etc=/etc/one
case $remotes in
*/var/remotes) [ ! -f "${remotes%/var/remotes}/etc/oned.conf" ] || etc=${remotes%/var/remotes}/etc ;;
esac
if [ $etc = /etc/one ] && [ -n "${ONE_LOCATION-}" ] && [ "$remotes" = "${ONE_LOCATION%/}/var/remotes" ]; then
  etc=${ONE_LOCATION%/}/etc
fi
conf=$etc/oned.conf
# Prints a configuration section: its name, then key and value pairs, the keys aligned and in
# the release's case (lower before 5.0, as those releases' own oned.conf writes them).
section() {
  printf '%s = [' "$1"
  shift
  width=0 n=0
  for word in "$@"; do
    n=$((n + 1))
    [ $((n % 2)) -eq 0 ] || [ ${#word} -le $width ] || width=${#word}
  done
  sep=
  while [ $# -gt 1 ]; do
    key=$1
    [ $release -lt 500 ] || key=$(echo "$1" | tr a-z A-Z)
    while [ ${#key} -lt $width ]; do key="$key "; done
    printf '%s\n    %s = "%s"' "$sep" "$key" "$2"
    sep=,
    shift 2
  done
  echo " ]"
}
vm_name=$name
[ $release -ge 400 ] || vm_name=vmm_$name
args="-t 15 -r 0"
[ $release -lt 410 ] || args="$args -p"
[ $release -lt 502 ] || args="$args -w 600"
# Actions on VMs imported with "onehost importvm" (5.0-6.10; 7.0 removed importing) are allowed
# only when VM_MAD lists them, and oned's defaults cover only drivers named kvm, xen, sl, ec2, az
# and vcenter. These are the actions the driver carries out (poweroff's resume is a deploy of the
# kept instance) or oned alone does. Left out: stop and undeploy, whose resume oned 5.x-6.x makes
# by "importing" the VM again, with no deploy, so the stopped instance would be marked running;
# migrations, which oned refuses for a host with PUBLIC_CLOUD=YES (all ours) before 7.0; and
# snapshots, hotplug and resize, which the driver does not do.
imported="terminate, terminate-hard, hold, release, suspend, resume, delete, reboot, reboot-hard"
imported="$imported, resched, unresched, poweroff, poweroff-hard"
set -- name "$vm_name"
[ $release -lt 500 ] || set -- "$@" sunstone_name one-hybrid
set -- "$@" executable one_vmm_sh arguments "$args $name" type xml
[ $release -lt 500 ] || [ $release -ge 700 ] || set -- "$@" imported_vms_actions "$imported"
echo
echo "OpenNebula $version: add this to $conf:"
echo
section VM_MAD "$@"
im_name=$name
args="-c -t 1 -r 0"
[ $release -lt 502 ] || args="$args -w 600"
case $im in
monitord)
  echo
  echo "Host probes in $remotes/im/$name.d"
  echo "and $remotes/im/$name-probes.d, run by OpenNebula's monitord client"
  if [ -n "$client" ]; then
    echo "copied from ${client%/*}/ (install again after upgrading OpenNebula);"
  else
    echo "(not installed: copy it there from OpenNebula's im/dummy.d);"
  fi
  echo "add this to $etc/monitord.conf as well:"
  echo
  section IM_MAD name "$name" sunstone_name one-hybrid executable one_im_sh arguments "$args $name"
  ;;
legacy)
  set -- name "$name"
  [ $release -lt 500 ] || set -- "$@" sunstone_name one-hybrid
  echo
  echo "Host probe in $remotes/im/$name.d/poll; add this to $conf as well:"
  echo
  section IM_MAD "$@" executable one_im_sh arguments "$args $name"
  ;;
none)
  echo
  echo "No host probes: OpenNebula's dummy IM reports the host. Make sure this line of"
  if [ $release -lt 400 ]; then
    im_name=im_dummy
    echo "$conf is not commented out:"
    echo
    echo "IM_MAD = [ name=\"im_dummy\", executable=\"one_im_dummy\"]"
  elif [ $release -lt 500 ]; then
    im_name=dummy
    echo "$conf is not commented out:"
    echo
    echo "IM_MAD = [ name=\"dummy\", executable=\"one_im_dummy\"]"
  elif [ $release -lt 512 ]; then
    im_name=dummy
    echo "$conf is not commented out:"
    echo
    echo "IM_MAD = [ NAME=\"dummy\", SUNSTONE_NAME=\"Testing\", EXECUTABLE=\"one_im_dummy\"]"
  else
    im_name=dummy
    echo "$etc/monitord.conf is not commented out:"
    echo
    echo "IM_MAD = [
    NAME          = \"dummy\",
    SUNSTONE_NAME = \"Dummy\",
    EXECUTABLE    = \"one_im_sh\",
    ARGUMENTS     = \"-r 3 -t 15 -w 90 dummy\",
    THREADS       = 0 ]"
  fi
  if [ $release -lt 304 ]; then
    echo
    echo "and, for the host's transfer manager, this one:"
    echo
    echo "TM_MAD = [ name = \"tm_dummy\", executable = \"one_tm\", arguments = \"tm_dummy/tm_dummy.conf\" ]"
  fi
  ;;
esac
echo
# The driver reads hybrid_driver.json beside oned.conf: $ONE_LOCATION/etc for a self-contained
# OpenNebula (its drivers inherit ONE_LOCATION), else /etc/one (lib/core/config.ts).
cluster=
if [ $release -ge 700 ]; then
  # 7.x has no public cloud hosts: every VM is placed on a system datastore of its host's
  # cluster, whose transfer driver runs on the host (ssh for the default one). A cluster of the
  # cloud hosts with a system datastore whose driver does nothing (dummy, in 7.x's TM_MAD and
  # DATASTORE_MAD lists) lets the scheduler place VMs there, and keeps other VMs' disks away.
  cluster=" --cluster hybrid"
  echo "Then restart OpenNebula. OpenNebula $version places every VM on a system datastore of its"
  echo "host's cluster: keep the cloud hosts in a cluster of their own, with a system datastore"
  echo "that does nothing. Add one host per account and region (its name selects its settings"
  echo "in $etc/hybrid_driver.json; the host probes need its capacity there or in the host"
  echo "template). As oneadmin:"
  echo
  echo "  onecluster create hybrid"
  printf '%s\n' "  printf 'NAME = \"hybrid-system\"\\nTYPE = \"SYSTEM_DS\"\\nTM_MAD = \"dummy\"\\n' >hybrid-system.ds"
  echo "  onedatastore create hybrid-system.ds --cluster hybrid"
else
  echo "Then restart OpenNebula and add one host per account and region (its name selects its"
  echo "settings in $etc/hybrid_driver.json; the host probes need its capacity there or in"
  echo "the host template):"
  echo
fi
if [ $release -lt 304 ]; then
  echo "  onehost create $host $im_name $vm_name tm_dummy dummy"
elif [ $release -lt 500 ]; then
  echo "  onehost create $host -i $im_name -v $vm_name -n dummy"
else
  echo "  onehost create $host -i $im_name -v $vm_name$cluster"
fi

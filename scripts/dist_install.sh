#!/bin/sh
# The one-hybrid installer; scripts/build.ts copies it into dist/install.sh. It needs nothing but
# the dist/ directory it sits in and a POSIX sh: no Deno, no npm cache, no network.
# Exit status: 0 installed (or --help), 1 refused (nothing changed), 2 bad command line.

USAGE='Usage: install.sh [--remotes DIR] [--name NAME] [--host HOST] [--im monitord|legacy|none]
                  [--force] [--not-opennebula] [--owner USER] [--runtime-dir DIR] [--help]
       install.sh --rollback --runtime-dir DIR [--name NAME]

Installs the driver built in this dist/ into OpenNebula'"'"'s remotes directory and prints the
oned.conf (and monitord.conf) sections and the onehost command to use.

  --remotes DIR      OpenNebula'"'"'s remotes directory ($ONE_REMOTES, else /var/lib/one/remotes)
  --name NAME        the driver name; must be the one dist/ was built with (the default)
  --host HOST        host name used in the printed onehost command (aws-us-east-1)
  --im monitord      OpenNebula 5.12+ host probes: im/NAME.d and im/NAME-probes.d (default)
  --im legacy        OpenNebula 4.4-5.10 host probe: im/NAME.d/poll
  --im none          no host probes (the dummy IM reports the host)
  --force            move directories one-hybrid did not install to NAME.backup-<UTC time>
                     instead of refusing
  --not-opennebula   install into a directory that does not look like OpenNebula'"'"'s remotes
                     (created if missing)
  --owner USER       when run as root, give the installed files to USER (oneadmin, if it exists)
  --runtime-dir DIR  keep the driver program in DIR/NAME/<build>/ (e.g. /usr/lib/one-hybrid),
                     outside the remotes tree; remotes/vmm/NAME/.driver links to DIR/NAME/current,
                     which each install switches to its build, the earlier ones kept beside it
  --rollback         switch DIR/NAME/current back to the build it pointed to before the last
                     switch (the remotes directory is not touched)

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

remotes=${ONE_REMOTES:-/var/lib/one/remotes}
name=
host=aws-us-east-1
im=monitord
force=no
foreign=no
owner=oneadmin
owner_given=no
runtime=
rt=
rollback=no
while [ $# -gt 0 ]; do
  case $1 in
  --help | -h)
    echo "$USAGE"
    exit 0
    ;;
  --force) force=yes ;;
  --not-opennebula) foreign=yes ;;
  --rollback) rollback=yes ;;
  --remotes | --name | --host | --im | --owner | --runtime-dir)
    [ $# -ge 2 ] || usage_error "option $1 needs a value"
    case $1 in
    --remotes) remotes=$2 ;;
    --name) name=$2 ;;
    --host) host=$2 ;;
    --im) im=$2 ;;
    --owner) owner=$2 owner_given=yes ;;
    --runtime-dir) runtime=$2 ;;
    esac
    shift
    ;;
  --remotes=* | --name=* | --host=* | --im=* | --owner=* | --runtime-dir=*)
    value=${1#*=}
    case $1 in
    --remotes=*) remotes=$value ;;
    --name=*) name=$value ;;
    --host=*) host=$value ;;
    --im=*) im=$value ;;
    --owner=*) owner=$value owner_given=yes ;;
    --runtime-dir=*) runtime=$value ;;
    esac
    ;;
  -*) usage_error "unknown option \"$1\"" ;;
  *) usage_error "unexpected argument \"$1\"" ;;
  esac
  shift
done

case $im in
monitord | legacy | none) ;;
*) refuse "--im must be monitord, legacy or none, not \"$im\"" ;;
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

# One directory per build under DIR/NAME; "current" is a link to one of them, replaced by a
# rename (atomic: an action starting meanwhile runs the old build or the new one, never neither).
if [ -n "$runtime" ]; then
  case $runtime in
  *[[:space:]]*) refuse "--runtime-dir \"$runtime\": give a path without spaces" ;;
  /*) ;;
  *) refuse "--runtime-dir \"$runtime\": give an absolute path (the remotes link to it)" ;;
  esac
  rt=${runtime%/}/$name
elif [ $rollback = yes ]; then
  usage_error "--rollback needs --runtime-dir"
fi
switch_current() { # build directory name under $rt
  ln -s "$1" "$rt/current.new-$$" || refuse "cannot create $rt/current.new-$$"
  mv -T "$rt/current.new-$$" "$rt/current" || {
    rm -f "$rt/current.new-$$"
    refuse "cannot switch $rt/current to $1"
  }
}
if [ $rollback = yes ]; then
  doing="roll back"
  now=$(readlink "$rt/current" 2>/dev/null) || refuse "$rt/current does not exist: nothing installed there"
  before=$(cat "$rt/previous" 2>/dev/null)
  [ -n "$before" ] && [ -d "$rt/$before" ] || refuse "$rt has no earlier build to go back to"
  switch_current "$before"
  echo "$now" >"$rt/previous"
  echo "Switched $rt/current from $now back to $before"
  exit 0
fi

case $remotes in
'' | *[[:space:]]*) refuse "--remotes \"$remotes\": give a path without spaces" ;;
/*) ;;
*) remotes=$(pwd)/$remotes ;;
esac
remotes=${remotes%/}

# A mistyped --remotes must fail, not grow a new tree beside OpenNebula's.
if [ $foreign = no ]; then
  if [ ! -d "$remotes/vmm" ] || [ ! -d "$remotes/im" ] ||
    { [ ! -f "$remotes/scripts_common.sh" ] && [ ! -d "$remotes/vmm/kvm" ] && [ ! -d "$remotes/etc" ]; }; then
    refuse "$remotes does not look like OpenNebula's remotes directory (it needs vmm/, im/ and one of scripts_common.sh, vmm/kvm/, etc/); check --remotes, or pass --not-opennebula to install there anyway"
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
if [ -n "$rt" ]; then
  # The build's time names it: 2026-11-30T09:06:12.848Z becomes 20261130T090612848Z.
  build=$(sed -n 's/^built=//p' "$dist/BUILD_INFO" | tr -cd 'A-Za-z0-9')
  [ -n "$build" ] || refuse "$dist/BUILD_INFO has no built= line; run \"deno task build\" again"
  if [ -e "$rt/$build" ] && [ ! -f "$rt/$build/$MARK" ]; then
    refuse "$rt/$build exists and one-hybrid did not install it"
  fi
  if [ -e "$rt/current" ] && [ ! -L "$rt/current" ]; then
    refuse "$rt/current is not a link; one-hybrid did not make it"
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
  {
    echo "installed by one-hybrid's install.sh on $stamp from $dist"
    cat "$dist/BUILD_INFO"
  } >"$s/$MARK" || refuse "cannot write $s/$MARK"
  [ -z "$chown_to" ] || chown -R "$chown_to" "$s" || refuse "cannot give $s to $chown_to"
}

mkdir -p "$remotes/vmm" || refuse "cannot create $remotes/vmm"
[ $im = none ] || mkdir -p "$remotes/im" || refuse "cannot create $remotes/im"
if [ -n "$rt" ]; then
  if [ ! -d "$rt/$build" ]; then
    mkdir -p "$rt" || refuse "cannot create $rt"
    owner_to=$chown_to chown_to= # the driver program stays root's: oneadmin only runs it
    stage "$rt/$build" $(cd "$dist/vmm/$name/.driver" && ls -A | sed "s|^|vmm/$name/.driver/|")
    chown_to=$owner_to
    mv "$rt/$build.installing-$$" "$rt/$build" || refuse "cannot move $rt/$build.installing-$$ to $rt/$build"
  fi
  stage "$remotes/vmm/$name" $(cd "$dist/vmm/$name" && ls -A | grep -vx '\.driver' | sed "s|^|vmm/$name/|")
  ln -s "$rt/current" "$remotes/vmm/$name.installing-$$/.driver" || refuse "cannot link .driver to $rt/current"
else
  stage "$remotes/vmm/$name" $(cd "$dist/vmm/$name" && ls -A | sed "s|^|vmm/$name/|")
fi
case $im in
monitord)
  stage "$remotes/im/$name.d" "im/$name.d/monitord-client.rb" "im/$name.d/monitord-client_control.sh"
  stage "$remotes/im/$name-probes.d" $(cd "$dist/im/$name-probes.d" && ls -A | sed "s|^|im/$name-probes.d/|")
  ;;
legacy) stage "$remotes/im/$name.d" "im/$name.d/poll" ;;
esac

for t in $targets; do
  case " $conflicts " in
  *" $t "*)
    mv "$t" "$t.backup-$stamp" || refuse "cannot move $t to $t.backup-$stamp"
    echo "Moved $t (not installed by one-hybrid) to $t.backup-$stamp"
    ;;
  *) [ ! -d "$t" ] || rm -rf "$t" || refuse "cannot remove the earlier installation $t" ;;
  esac
  mv "$t.installing-$$" "$t" || refuse "cannot move $t.installing-$$ to $t"
done
staged=
for t in $stale; do
  [ ! -f "$t/$MARK" ] || rm -rf "$t"
done
if [ -n "$rt" ]; then
  was=$(readlink "$rt/current" 2>/dev/null)
  [ "$was" != "$build" ] || was=
  if [ -n "$was" ] || [ ! -L "$rt/current" ]; then
    switch_current "$build"
    [ -z "$was" ] || echo "$was" >"$rt/previous"
  fi
  echo "Driver program: $rt/$build, linked from $rt/current${was:+ (was $was; --rollback goes back)}"
fi

echo "Installed the $name driver ($mode build) into $remotes/vmm/$name"
cat <<EOF

Add this to /etc/one/oned.conf and restart oned (OpenNebula 5.2 and later):

VM_MAD = [
    NAME       = "$name",
    EXECUTABLE = "one_vmm_sh",
    ARGUMENTS  = "-t 15 -r 0 -p -w 600 $name",
    TYPE       = "xml" ]

(one_vmm_exec has -w from 5.2 and -p from 4.10: on 4.10-5.0 use "-t 15 -r 0 -p $name",
 on 4.4-4.8 "-t 15 -r 0 $name"; 3.2: VM_MAD = [ name = "vmm_$name",
 executable = "one_vmm_sh", arguments = "-t 15 -r 0 $name", type = "xml" ].)

EOF
case $im in
monitord)
  cat <<EOF
Host probes installed into $remotes/im/$name.d and $remotes/im/$name-probes.d
(OpenNebula 5.12 and later). Add this to /etc/one/monitord.conf and restart opennebula:

IM_MAD = [
    NAME          = "$name",
    SUNSTONE_NAME = "one-hybrid",
    EXECUTABLE    = "one_im_sh",
    ARGUMENTS     = "-c -t 1 -r 0 -w 600 $name" ]

Then add one host per account and region (its name selects the settings in
/etc/one/hybrid_driver.json, which must give it a "capacity"):

  onehost create $host -i $name -v $name
EOF
  ;;
legacy)
  cat <<EOF
Host probe installed into $remotes/im/$name.d/poll (OpenNebula 4.4 to 5.10). Add this
to /etc/one/oned.conf as well (one_im_exec has -w from 5.2: on 4.4-5.0 leave it out):

IM_MAD = [
    NAME       = "$name",
    EXECUTABLE = "one_im_sh",
    ARGUMENTS  = "-c -t 1 -r 0 -w 600 $name" ]

Then add one host per account and region (its name selects the settings in
/etc/one/hybrid_driver.json, which must give it a "capacity"):

  onehost create $host -i $name -v $name               # 5.x
  onehost create $host -i $name -v $name -n dummy      # 4.4-4.14
EOF
  ;;
none)
  cat <<EOF
No host probes installed (--im none): the dummy IM reports the host. Add one host per
account and region (its name selects the settings in /etc/one/hybrid_driver.json):

  onehost create $host -i dummy -v $name                       # 5.x and later
  onehost create $host -i dummy -v $name -n dummy              # 4.x
  onehost create $host im_dummy vmm_$name tm_dummy dummy       # 3.2
EOF
  ;;
esac

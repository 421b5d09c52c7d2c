#!/bin/sh
#
# Install paceline's agents:
#   OCF agents     -> $DESTDIR$OCF_ROOT/resource.d/paceline/      (OCF_ROOT=/usr/lib/ocf)
#   shared shell   -> $DESTDIR$OCF_ROOT/lib/paceline/             (paceline-ocf.sh, paceline-fence.sh)
#   fence agents   -> $DESTDIR$SBINDIR/                           (SBINDIR=/usr/sbin)
#   lsb scripts    -> $DESTDIR$INITDIR/                           (INITDIR=/etc/init.d)
#
# usage: [DESTDIR=/tmp/stage] [OCF_ROOT=/usr/lib/ocf] [SBINDIR=/usr/sbin] [INITDIR=/etc/init.d]
#        agents/install.sh [--no-lsb] [--no-fence]
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
DESTDIR=${DESTDIR:-}
OCF_ROOT=${OCF_ROOT:-/usr/lib/ocf}
SBINDIR=${SBINDIR:-/usr/sbin}
INITDIR=${INITDIR:-/etc/init.d}
with_lsb=1
with_fence=1
for arg in "$@"; do
	case "$arg" in
	--no-lsb) with_lsb=0 ;;
	--no-fence) with_fence=0 ;;
	-h | --help)
		sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "install.sh: unknown option $arg" >&2
		exit 2
		;;
	esac
done

# put MODE SRC DIR: copy SRC into DIR (created) with MODE, atomically (temp file, then rename).
put() {
	mkdir -p "$3"
	tmp="$3/.${2##*/}.new.$$"
	cp "$2" "$tmp"
	chmod "$1" "$tmp"
	mv -f "$tmp" "$3/${2##*/}"
	echo "installed $3/${2##*/}"
}

for lib in "$here"/lib/*.sh; do
	put 644 "$lib" "$DESTDIR$OCF_ROOT/lib/paceline"
done
for agent in "$here"/ocf/paceline/*; do
	[ -f "$agent" ] || continue
	put 755 "$agent" "$DESTDIR$OCF_ROOT/resource.d/paceline"
done
if [ "$with_fence" = 1 ]; then
	for agent in "$here"/stonith/fence_*; do
		put 755 "$agent" "$DESTDIR$SBINDIR"
	done
fi
if [ "$with_lsb" = 1 ]; then
	for script in "$here"/lsb/*; do
		put 755 "$script" "$DESTDIR$INITDIR"
	done
fi

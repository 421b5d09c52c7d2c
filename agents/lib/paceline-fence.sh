# paceline-fence.sh: the fence-agent protocol shared by paceline's fence agents.
#
# Sourced by agents/stonith/fence_*. POSIX sh (dash). It implements the interface of
# ClusterLabs' fence-agents, which Pacemaker's fencer speaks:
#   - options as "key=value" lines on stdin (Pacemaker's way), when there are no arguments;
#   - or command-line options: -o ACTION / --action=ACTION, -n PLUG / --plug=PLUG, -H HOST,
#     -l LOGIN, -p PASSWORD, -k IDENTITY_FILE, and any --long-option[=value] (dashes become
#     underscores: --lab-dir=/x sets lab_dir);
#   - actions on, off, reboot, status, monitor, list, list-status, metadata, validate-all;
#   - exit 0 for success, 1 for failure; status exits 0 when the target is on, 2 when off.
# Installed as $OCF_ROOT/lib/paceline/paceline-fence.sh (see agents/README.md).
# shellcheck shell=sh disable=SC2034 # the constants are used by the agents

FENCE_OK=0
FENCE_FAIL=1
FENCE_OFF=2

# fence_log LEVEL MESSAGE...: a line on stderr (the fencer logs an agent's stderr).
fence_log() {
	_fl_level=$1
	shift
	if [ "$_fl_level" = debug ] && [ -z "${FENCE_verbose:-}" ]; then
		return 0
	fi
	printf '%s: %s: %s\n' "${FENCE_AGENT:-fence}" "$_fl_level" "$*" >&2
}

# fence_set KEY VALUE: record an option as FENCE_<key>, with the protocol's aliases applied.
fence_set() {
	_fs_key=$(printf '%s' "$1" | tr 'A-Z-' 'a-z_')
	case "$_fs_key" in
	option) _fs_key=action ;;
	port) _fs_key=plug ;;
	ip) _fs_key=ipaddr ;;
	username) _fs_key=login ;;
	password) _fs_key=passwd ;;
	identity_file | identity-file) _fs_key=identity_file ;;
	esac
	case "$_fs_key" in
	'' | *[!a-z0-9_]*)
		fence_log warn "ignoring option with a bad name: $1"
		return 0
		;;
	esac
	eval "FENCE_$_fs_key=\$2"
}

# fence_short_key LETTER: the option a short command-line flag sets.
fence_short_key() {
	case "$1" in
	o) echo action ;;
	n) echo plug ;;
	H | a) echo ipaddr ;;
	l) echo login ;;
	p) echo passwd ;;
	k) echo identity_file ;;
	u) echo ipport ;;
	*) return 1 ;;
	esac
}

# fence_parse "$@": read the options from the arguments, or from stdin when there are none.
fence_parse() {
	if [ $# -eq 0 ]; then
		while IFS= read -r _fp_line || [ -n "$_fp_line" ]; do
			case "$_fp_line" in
			'' | '#'*) continue ;;
			*=*) fence_set "${_fp_line%%=*}" "${_fp_line#*=}" ;;
			*) fence_log warn "ignoring stdin line without '=': $_fp_line" ;;
			esac
		done
		return 0
	fi
	while [ $# -gt 0 ]; do
		case "$1" in
		-h | --help) FENCE_action=help ;;
		-v | --verbose) FENCE_verbose=1 ;;
		--*=*)
			_fp_opt=${1#--}
			fence_set "${_fp_opt%%=*}" "${_fp_opt#*=}"
			;;
		--*)
			if [ $# -ge 2 ]; then
				case "$2" in
				-*) fence_set "${1#--}" 1 ;;
				*)
					fence_set "${1#--}" "$2"
					shift
					;;
				esac
			else
				fence_set "${1#--}" 1
			fi
			;;
		-?)
			_fp_key=$(fence_short_key "${1#-}") || {
				fence_log error "unknown option $1"
				return 1
			}
			[ $# -ge 2 ] || {
				fence_log error "option $1 needs a value"
				return 1
			}
			fence_set "$_fp_key" "$2"
			shift
			;;
		-?*)
			_fp_key=$(fence_short_key "$(printf '%s' "$1" | cut -c2)") || {
				fence_log error "unknown option $1"
				return 1
			}
			fence_set "$_fp_key" "$(printf '%s' "$1" | cut -c3-)"
			;;
		*)
			fence_log error "unexpected argument $1"
			return 1
			;;
		esac
		shift
	done
	return 0
}

# fence_target: the plug to act on (plug, else nodename).
fence_target() {
	if [ -n "${FENCE_plug:-}" ]; then
		echo "$FENCE_plug"
	else
		echo "${FENCE_nodename:-}"
	fi
}

# fence_param_xml NAME REQUIRED TYPE DEFAULT GETOPT SHORTDESC: one <parameter> of the metadata.
fence_param_xml() {
	if [ -n "$4" ]; then _fx_default=" default=\"$4\""; else _fx_default=; fi
	cat <<END
	<parameter name="$1" unique="0" required="$2">
		<getopt mixed="$5" />
		<content type="$3"$_fx_default />
		<shortdesc lang="en">$6</shortdesc>
	</parameter>
END
}

# fence_common_params_xml: the parameters every paceline fence agent takes.
fence_common_params_xml() {
	fence_param_xml action 0 string reboot "-o, --action=[action]" \
		"Fencing action (on, off, reboot, status, monitor, list, list-status, metadata, validate-all)"
	fence_param_xml plug 0 string "" "-n, --plug=[id]" "The node (plug) to act on"
	fence_param_xml port 0 string "" "-n, --plug=[id]" "Alias of plug"
	fence_param_xml nodename 0 string "" "--nodename=[name]" "The node to fence, when plug is not set"
	fence_param_xml delay 0 second 0 "--delay=[seconds]" "Seconds to wait before acting"
	fence_param_xml verbose 0 boolean 0 "-v, --verbose" "Verbose output on stderr"
}

# fence_actions_xml: the <actions> element. $1: "1" when the agent can power nodes on.
fence_actions_xml() {
	cat <<END
<actions>
	<action name="on" automatic="0" on_target="0" />
	<action name="off" />
	<action name="reboot" />
	<action name="status" />
	<action name="list" />
	<action name="list-status" />
	<action name="monitor" />
	<action name="metadata" />
	<action name="validate-all" />
</actions>
END
}

# fence_wait_until DEADLINE CMD...: poll CMD every half second until it succeeds or DEADLINE.
fence_wait_until() {
	_fw_deadline=$1
	shift
	while ! "$@"; do
		[ "$(date +%s)" -lt "$_fw_deadline" ] || return 1
		sleep 0.5 2>/dev/null || sleep 1
	done
	return 0
}

# fence_run: dispatch FENCE_action to the agent's functions:
#   fa_validate (must exist), fa_on, fa_off, fa_status (0 on, 2 off, 1 error), fa_list,
#   fa_monitor, fa_metadata; reboot is fa_off then fa_on unless the agent defines fa_reboot.
fence_run() {
	: "${FENCE_action:=reboot}"
	case "$FENCE_action" in
	metadata | meta-data)
		fa_metadata
		return "$FENCE_OK"
		;;
	help)
		echo "usage: $0 [-o ACTION] [-n PLUG] [--option=value ...], or key=value lines on stdin"
		return "$FENCE_OK"
		;;
	esac
	fa_validate || return "$FENCE_FAIL"
	[ "$FENCE_action" = validate-all ] && return "$FENCE_OK"
	if [ -n "${FENCE_delay:-}" ] && [ "${FENCE_delay}" != 0 ]; then
		case "$FENCE_action" in off | reboot) sleep "$FENCE_delay" ;; esac
	fi
	case "$FENCE_action" in
	on | enable) fa_on ;;
	off | disable) fa_off ;;
	reboot)
		if command -v fa_reboot >/dev/null 2>&1; then
			fa_reboot
		else
			fa_off || return "$FENCE_FAIL"
			fa_on
		fi
		;;
	status) fa_status ;;
	monitor) fa_monitor ;;
	list) fa_list ;;
	list-status)
		fa_list | while IFS=, read -r _fr_plug _fr_alias; do
			FENCE_plug=$_fr_plug
			fa_status >/dev/null 2>&1
			case $? in 0) _fr_st=on ;; 2) _fr_st=off ;; *) _fr_st=unknown ;; esac
			echo "$_fr_plug,$_fr_alias,$_fr_st"
		done
		;;
	*)
		fence_log error "unrecognised action '$FENCE_action'"
		return "$FENCE_FAIL"
		;;
	esac
}

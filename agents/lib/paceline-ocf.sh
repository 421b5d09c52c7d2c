# paceline-ocf.sh: shell functions shared by paceline's OCF resource agents.
#
# Sourced (never executed) by agents/ocf/paceline/*. POSIX sh: it must run under dash.
# It depends on nothing from ClusterLabs' resource-agents (no ocf-shellfuncs), so the agents
# work on machines that only have paceline, and under real Pacemaker as well.
#
# Installed as $OCF_ROOT/lib/paceline/paceline-ocf.sh (see agents/README.md).
# shellcheck shell=sh disable=SC2034 # the constants are used by the agents

# OCF exit codes (OCF 1.1, section "Exit codes").
OCF_SUCCESS=0
OCF_ERR_GENERIC=1
OCF_ERR_ARGS=2
OCF_ERR_UNIMPLEMENTED=3
OCF_ERR_PERM=4
OCF_ERR_INSTALLED=5
OCF_ERR_CONFIGURED=6
OCF_NOT_RUNNING=7
OCF_RUNNING_PROMOTED=8
OCF_FAILED_PROMOTED=9
# shellcheck disable=SC2034 # used by the agents that source this file
OCF_DEGRADED=190
# shellcheck disable=SC2034
OCF_DEGRADED_PROMOTED=191

: "${OCF_ROOT:=/usr/lib/ocf}"
: "${OCF_RESOURCE_INSTANCE:=default}"
# Where agents keep small state files between actions (Pacemaker's convention).
: "${HA_RSCTMP:=/run/resource-agents}"

if [ -n "${OCF_TRACE_RA:-}" ] && [ "${OCF_TRACE_RA}" != 0 ]; then
	set -x
fi

# ocf_log LEVEL MESSAGE...: one line on stderr, tagged with the agent and the instance.
# Levels: debug, info, warn, err, crit. debug lines only appear when HA_debug is set.
ocf_log() {
	_pl_level=$1
	shift
	if [ "$_pl_level" = debug ] && [ -z "${HA_debug:-}" ]; then
		return 0
	fi
	printf '%s(%s)[%s]: %s: %s\n' "${PL_AGENT:-agent}" "$OCF_RESOURCE_INSTANCE" "$$" \
		"$(printf '%s' "$_pl_level" | tr '[:lower:]' '[:upper:]')" "$*" >&2
	if [ "$_pl_level" != debug ] && command -v logger >/dev/null 2>&1; then
		logger -t "${PL_AGENT:-agent}($OCF_RESOURCE_INSTANCE)" -p "daemon.$_pl_level" -- "$*" \
			>/dev/null 2>&1 || :
	fi
	return 0
}

# ocf_exit_reason MESSAGE...: the one-line reason the executor reports with a failed action.
ocf_exit_reason() {
	printf 'ocf-exit-reason:%s\n' "$*" >&2
	ocf_log err "$*"
}

# pl_fail RC MESSAGE...: print the exit reason and return RC (use as `pl_fail 6 "..."; return`).
pl_fail() {
	_pl_rc=$1
	shift
	ocf_exit_reason "$*"
	return "$_pl_rc"
}

# ocf_is_true VALUE: yes/true/on/1 (any case) are true.
ocf_is_true() {
	case "$(printf '%s' "${1:-}" | tr '[:upper:]' '[:lower:]')" in
	yes | true | on | 1 | y | t) return 0 ;;
	*) return 1 ;;
	esac
}

# pl_is_bool VALUE: whether VALUE is a boolean the agents accept.
pl_is_bool() {
	case "$(printf '%s' "${1:-}" | tr '[:upper:]' '[:lower:]')" in
	yes | true | on | 1 | y | t | no | false | off | 0 | n | f) return 0 ;;
	*) return 1 ;;
	esac
}

# pl_is_uint VALUE: a non-negative decimal integer.
pl_is_uint() {
	case "${1:-}" in
	'' | *[!0-9]*) return 1 ;;
	*) return 0 ;;
	esac
}

# pl_is_seconds VALUE: a non-negative number of seconds, fractions allowed ("0.5").
pl_is_seconds() {
	case "${1:-}" in
	'' | *[!0-9.]* | *.*.* | .) return 1 ;;
	*) return 0 ;;
	esac
}

# ocf_is_probe: a monitor with interval 0 (Pacemaker's probe of a resource's current state).
ocf_is_probe() {
	[ "${__OCF_ACTION:-}" = monitor ] && [ "${OCF_RESKEY_CRM_meta_interval:-0}" = 0 ]
}

# pl_timeout_s DEFAULT: this action's timeout in whole seconds, from OCF_RESKEY_CRM_meta_timeout
# (milliseconds, set by the executor) or DEFAULT when unset. Never less than 1.
pl_timeout_s() {
	_pl_ms=${OCF_RESKEY_CRM_meta_timeout:-}
	if pl_is_uint "$_pl_ms" && [ "$_pl_ms" -gt 0 ]; then
		_pl_s=$((_pl_ms / 1000))
	else
		_pl_s=$1
	fi
	[ "$_pl_s" -ge 1 ] || _pl_s=1
	echo "$_pl_s"
}

# pl_deadline DEFAULT_S [RESERVE_S]: the epoch second by which this action must be done,
# keeping RESERVE_S seconds back for cleanup (never less than 1s of budget).
pl_deadline() {
	_pl_t=$(pl_timeout_s "$1")
	_pl_r=${2:-0}
	if [ $((_pl_t - _pl_r)) -ge 1 ]; then _pl_t=$((_pl_t - _pl_r)); else _pl_t=1; fi
	echo $(($(date +%s) + _pl_t))
}

# pl_before DEADLINE: whether the current time is still before DEADLINE (epoch seconds).
pl_before() {
	[ "$(date +%s)" -lt "$1" ]
}

# pl_have CMD: whether CMD can be run (on PATH, or an executable path).
pl_have() {
	case "$1" in
	/*) [ -x "$1" ] ;;
	*) command -v "$1" >/dev/null 2>&1 ;;
	esac
}

# pl_require CMD...: fail with OCF_ERR_INSTALLED naming the first missing command.
pl_require() {
	for _pl_cmd in "$@"; do
		if ! pl_have "$_pl_cmd"; then
			pl_fail "$OCF_ERR_INSTALLED" "required program $_pl_cmd is not installed"
			return
		fi
	done
	return "$OCF_SUCCESS"
}

# pl_pid_alive PID: a live process (not a zombie) with this pid exists.
pl_pid_alive() {
	pl_is_uint "${1:-}" || return 1
	[ "$1" -gt 0 ] || return 1
	kill -0 "$1" 2>/dev/null || return 1
	# A zombie still answers kill -0; it is dead for our purposes.
	if [ -r "/proc/$1/stat" ]; then
		_pl_st=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2>/dev/null)
		[ "$_pl_st" != Z ] || return 1
	fi
	return 0
}

# pl_pidfile_pid FILE: the pid recorded in FILE (first word), or nothing.
pl_pidfile_pid() {
	[ -r "$1" ] || return 1
	_pl_pid=$(head -n 1 "$1" 2>/dev/null | tr -dc '0-9')
	[ -n "$_pl_pid" ] || return 1
	echo "$_pl_pid"
}

# pl_pidfile_alive FILE: the process named in FILE is running.
pl_pidfile_alive() {
	_pl_p=$(pl_pidfile_pid "$1") || return 1
	pl_pid_alive "$_pl_p"
}

# pl_sleep SECONDS: sleep, allowing fractions where sleep(1) does.
pl_sleep() {
	sleep "$1" 2>/dev/null || sleep "${1%%.*}"
}

# pl_wait_gone PID DEADLINE: wait until PID has exited or DEADLINE passes; true when gone.
pl_wait_gone() {
	while pl_pid_alive "$1"; do
		pl_before "$2" || return 1
		pl_sleep 0.2
	done
	return 0
}

# pl_usage ACTIONS: the usage line for this agent.
pl_usage() {
	echo "usage: $0 {$1}"
}

# pl_unknown_action NAME: the spec's answer to an action the agent does not implement.
pl_unknown_action() {
	pl_usage "${PL_ACTIONS:-start|stop|monitor|validate-all|meta-data}" >&2
	ocf_exit_reason "action '$1' is not implemented by ${PL_AGENT:-this agent}"
	return "$OCF_ERR_UNIMPLEMENTED"
}

# pl_set_promotion_score SCORE|-D: the node's promotion score for this resource, through
# crm_attribute --promotion (Pacemaker >= 2.1) or crm_master. Skipped quietly when neither is
# installed or no cluster answers: a stand-alone run (ocf-tester, `paceline ra run`) has none.
pl_set_promotion_score() {
	if [ "$1" = -D ]; then _pl_op=-D; else _pl_op="-v $1"; fi
	if pl_have crm_attribute; then
		# shellcheck disable=SC2086
		crm_attribute --promotion -l reboot $_pl_op >/dev/null 2>&1 && return 0
	fi
	if pl_have crm_master; then
		# shellcheck disable=SC2086
		crm_master -q -l reboot $_pl_op >/dev/null 2>&1 && return 0
	fi
	ocf_log debug "no cluster answered; promotion score $1 not recorded"
	return 0
}

# pl_run_with_timeout SECONDS CMD...: run CMD, killed after SECONDS when timeout(1) exists.
pl_run_with_timeout() {
	_pl_s=$1
	shift
	if pl_have timeout; then
		timeout -k 2 "$_pl_s" "$@"
	else
		"$@"
	fi
}

# --- Fault knobs of the test agents (Dummy, Stateful) ---------------------------------------
# For an action ACTION and the state file STATE:
#   STATE.fail-ACTION  the next ACTION fails without doing anything: it returns the rc written
#                      in the file (first word; 1 when empty) and the file is removed, unless its
#                      second word is "keep" (then every ACTION fails until it is removed).
#   STATE.hang-ACTION  ACTION sleeps forever (until the executor's timeout kills it).
# op_sleep (seconds) is slept at the start of every action but meta-data and validate-all.

# pl_fault_injected STATE ACTION: prints the injected rc and succeeds when ACTION must fail now.
pl_fault_injected() {
	_pl_f="$1.fail-$2"
	[ -f "$_pl_f" ] || return 1
	# shellcheck disable=SC2046
	set -- $(head -n 1 "$_pl_f" 2>/dev/null) "" ""
	[ "$2" = keep ] || rm -f "$_pl_f"
	if pl_is_uint "$1"; then echo "$1"; else echo 1; fi
	return 0
}

# pl_fault_hang STATE ACTION: never returns while STATE.hang-ACTION exists.
pl_fault_hang() {
	while [ -f "$1.hang-$2" ]; do
		sleep 1
	done
}

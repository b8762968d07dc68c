%% @doc Tell systemd how the service is doing: the service notification protocol of sd_notify(3).
%%
%% <h3>Errors</h3>
%% This is the error rule of the whole public API (Erlang and Elixir). Every function returns
%% `ok' when the message was sent, and also when there is no manager to send it to (no
%% `NOTIFY_SOCKET', as on a developer's machine or under `mix test'). Otherwise:
%% <ul>
%% <li>`badarg' is raised for an argument of the wrong type (`ArgumentError' in Elixir);</li>
%% <li>`{error, {invalid, Key}}': the key or its value would not reach the manager as given
%%     (a newline, carriage return, NUL or backslash in a value; a key outside
%%     `[A-Z_][A-Z0-9_]*'; a STATUS that is not valid UTF-8). Nothing is sent;</li>
%% <li>`{error, emsgsize}': the message is longer than the 4096 bytes the manager reads;</li>
%% <li>`{error, timeout}': a state change was not delivered within `send_deadline' because the
%%     manager's queue stayed full; it stays queued and is delivered, in order, when the queue
%%     drains (do not send it again). Also: a barrier not passed in time;</li>
%% <li>`{error, {invalid_name, Name}}': a name the fd store would not keep as given (see Socket
%%     activation and the fd store). Nothing is sent;</li>
%% <li>`{error, not_found}', `{error, not_a_socket}': {@link listen_options/1} found no
%%     descriptor of that name, or one that is not an IPv4, IPv6 or AF_UNIX socket;</li>
%% <li>`{error, {bad_listen_env, Posix}}': the socket activation variables were malformed
%%     (`einval') or counted a descriptor that is not open (`ebadf'): see Socket activation
%%     and the fd store;</li>
%% <li>`{error, Posix}': the socket failed, e.g. `econnrefused' or `enoent' while the manager
%%     is not there (the next call reconnects by itself), `eagain' for a message sent once
%%     that the full queue refused (see Delivery), or the clock could not be read for
%%     MONOTONIC_USEC.</li>
%% </ul>
%% One function departs from the first sentence: {@link watchdog_summary/0} is asked for by a
%% person, who must learn that nothing was written, so it returns `{error, no_watchdog}' when
%% there is no watchdog to summarise, without a manager too.
%%
%% <h3>Delivery</h3>
%% The manager's queue holds net.unix.max_dgram_qlen datagrams: the kernel's default is 10,
%% and systemd as PID 1 raises it to 512 at boot. When it is full, a message is handled by its
%% class, the same whichever function sends it:
%% <ul>
%% <li>State changes: a message with READY, RELOADING, STOPPING, ERRNO, BUSERROR, EXIT_STATUS,
%%     MAINPID, EXTEND_TIMEOUT_USEC, WATCHDOG_USEC, NOTIFYACCESS or WATCHDOG=trigger. Queued in
%%     the order they were made and sent as soon as the manager's queue has room, without
%%     blocking a scheduler or using the CPU while waiting. The caller waits for the outcome
%%     for at most `send_deadline' milliseconds, then gets `{error, timeout}'; the message
%%     stays queued for as long as the VM runs.</li>
%% <li>STATUS alone: latest-wins. The caller does not wait; the newest refused status is sent
%%     once the state changes queued before it are out.</li>
%% <li>BARRIER=1 ({@link barrier/1}): sent behind the queued state changes, and, while the
%%     queue is full, as soon as it has room, within the barrier's own timeout.</li>
%% <li>Anything else, watchdog pings first of all: sent once; a full queue returns
%%     `{error, eagain}' (the next ping follows).</li>
%% <li>Messages to the fd store ({@link store_fds/2}, {@link remove_fds/2}): sent behind the
%%     queued state changes, each as soon as the queue has room, then BARRIER=1; the caller
%%     returns once the manager has processed them, or gets `{error, timeout}' at the call's
%%     `timeout'.</li>
%% </ul>
%%
%% <h3>Configuration</h3>
%% The application environment is read and checked once, when the application starts; a key
%% that is unknown or a value that is not valid stops the start with
%% `{error, {bad_config, Key, Value}}' (`application:start/1' wraps it as
%% `{error, {{bad_config, Key, Value}, {vigil_app, start, [normal, []]}}}'). Keys:
%% <ul>
%% <li>`send_deadline': how long a caller waits for a state change to be delivered, in
%%     milliseconds: a non-negative integer or `infinity' (default 10000);</li>
%% <li>`watchdog_fraction': pings at this fraction of the watchdog timeout, a number strictly
%%     between 0 and 1 (default 0.5);</li>
%% <li>`health_checks': a list of checks (see Watchdog; default `[]'); the value named in the
%%     error is the entry at fault;</li>
%% <li>`watchdog_trigger_after': a positive integer or `infinity' (default `infinity'). The
%%     N-th skipped ping in a row falls N times `watchdog_fraction' of the timeout after the
%%     last ping, so N must keep N * `watchdog_fraction' below 1: at the default 0.5 only 1
%%     acts, 3 asks for a fraction below 1/3 (e.g. 0.25). A larger N is refused at start
%%     (`{bad_config, watchdog_trigger_after, N}', and an error log says why and what fits);</li>
%% <li>`watchdog_summary_interval': how often the watchdog's summary entry is written to the
%%     journal (see Watchdog), in milliseconds: a positive integer, `infinity' (only when the
%%     watchdog stops, and on request) or `false' (only on request) (default 3600000, an
%%     hour);</li>
%% <li>`journal_socket': journald's socket, where the summary entry goes: a path, or `"@name"'
%%     for an abstract name, that fits in an AF_UNIX address (default
%%     `"/run/systemd/journal/socket"'). It is the watchdog's alone: `vigil_journal_h' has its
%%     own `socket_path';</li>
%% <li>`stopping_status': the status line sent with STOPPING=1, Unicode text (default
%%     "stopping");</li>
%% <li>`sighup': `undefined', `ignore', `{M, F, A}' or a fun of no arguments (see Reload;
%%     default `undefined');</li>
%% <li>`ready': `auto' or `manual' (see Readiness; default `auto');</li>
%% <li>`memory_pressure_action': what vigil does itself at a memory pressure event (see Memory
%%     pressure): `none', `gc' (garbage-collect the 20 processes using the most memory) or
%%     `{gc, N}' (the N largest) (default `none');</li>
%% <li>`memory_pressure_interval': the least time between two memory pressure notices, in
%%     milliseconds, a positive integer (default 1000);</li>
%% <li>`unit': the settings of the unit generator (`mix vigil.gen.unit'), read by it only.</li>
%% </ul>
%% The environment the manager hands over is not configuration: a `NOTIFY_SOCKET' that is not
%% an address, or a `WATCHDOG_USEC' that is not a number, is logged and turns notifications, or
%% the watchdog, off.
%%
%% <h3>Watchdog</h3>
%% When the manager sets `WATCHDOG_USEC' (`WatchdogSec=' in the unit) and `WATCHDOG_PID' is
%% unset or names this BEAM, a process of the application sends WATCHDOG=1 at the fraction
%% `watchdog_fraction' of the timeout, at high priority, for as long as the health checks
%% pass. The health checks begin once the application is up (see Readiness); during the boot
%% the pings go out without them, as the application's processes may not exist yet (the
%% manager's watchdog runs from the service's start; `TimeoutStartSec=' bounds the boot).
%% Application environment (see Configuration):
%% <ul>
%% <li>`health_checks': a list of `{M, F, A}', funs of no arguments, `{Check, TimeoutMs}' or
%%     `#{check => Check, timeout => TimeoutMs, name => Name}'. A check passes when it returns
%%     `ok', `true' or `{ok, _}'. All run at once, each in a process of its own, before every
%%     ping; one that fails, raises or takes longer than its timeout (default 1000 ms) skips
%%     that ping, and a warning names it (at most every 30 s per check). The failure that
%%     lets the manager's watchdog expire, i.e. whose skipped ping leaves the next one due
%%     when `WATCHDOG_USEC' or more has passed since the last ping sent, is logged at error
%%     level whatever that limit, once in a run of failures, naming the check and why, and
%%     shown as `STATUS=watchdog: health check Name failed: Reason'. At the default fraction
%%     0.5 this is the first failure. A check in an Elixir module is named and explained in
%%     Elixir's terms (`MyApp.Health.check/0 failed: ** (RuntimeError) boom').</li>
%% <li>`watchdog_trigger_after': after this many skipped pings in a row, send
%%     WATCHDOG=trigger so that the manager acts at once, before the timeout would have run
%%     out.</li>
%% </ul>
%% {@link watchdog_info/0} reports how late pings were and a `WatchdogSec=' that leaves room
%% for it; `vigil-unit --watchdog-sec N' writes it into the unit.
%%
%% The same numbers go to the journal as one summary entry, so that the `WatchdogSec=' a
%% service needs can be read from `journalctl' after running under real load:
%% ```
%% journalctl -u shop -o json MESSAGE_ID=7ae7a1b7f796442bb549d9dfeacc97af
%% '''
%% It is written every `watchdog_summary_interval' (an hour by default), when the watchdog
%% stops (the application stops, the node stops or restarts: once the applications that
%% depend on vigil have stopped, with everything measured up to then), and by
%% {@link watchdog_summary/0}; only while a manager watches this BEAM (`WATCHDOG_USEC' or
%% {@link watchdog_timeout/1} gave a timeout, and `WATCHDOG_PID' names no other process),
%% whether pings are enabled or not. It is sent straight to `journal_socket', whether or not
%% the application logs through `vigil_journal_h', in one datagram that never blocks; an
%% entry journald's full queue refuses is lost. Where no journald listens, the same `MESSAGE'
%% is logged through logger at notice level, with `message_id' and the numbers as metadata
%% (`vigil_watchdog_pings', ...). Fields:
%% <ul>
%% <li>`MESSAGE': `watchdog: 7200 pings in 3600 s, 0 skipped, lateness p50 0.05 ms p99 0.91 ms
%%     max 3.41 ms, longest health check 12.1 ms; recommended WatchdogSec=7s (now 30s)' (and
%%     `, N send errors' after the skips when there were any, `no health checks' without);
%%     `PRIORITY=5' (notice); `SYSLOG_IDENTIFIER' as `vigil_journal_h' sets it by default
%%     (the release's name); `MESSAGE_ID=7ae7a1b7f796442bb549d9dfeacc97af', the same in every
%%     summary entry;</li>
%% <li>`VIGIL_WATCHDOG_REASON': `periodic', `shutdown' or `requested'
%%     ({@link watchdog_summary/0});</li>
%% <li>then decimal integers, counted since the watchdog started, the units in the names:
%%     `VIGIL_WATCHDOG_PINGS' sent, `_SKIPPED' by health checks, `_SEND_ERRORS';
%%     `_TICKS', the ping times measured, and how late their timer fired,
%%     `_LATENESS_P50_US', `_LATENESS_P99_US', `_LATENESS_MAX_US';
%%     `_LONGEST_CHECK_US', the longest health check; `_HEALTH_CHECKS', how many there are,
%%     and `_CHECK_TIMEOUT_MS', the largest of their timeouts (0 without checks);
%%     `_INTERVAL_US' between pings; `_USEC', the manager's timeout now, as
%%     `WATCHDOG_USEC'; `_RECOMMENDED_SEC', as `recommended_watchdog_sec' of
%%     {@link watchdog_info/0}; `_UPTIME_SEC', the time the numbers cover;
%%     `_LAST_PING_AGE_MS' (left out before the first ping); `_ENABLED', 1 or 0 (pings
%%     disabled, e.g. by `STOPPING=1' in a shutdown entry).</li>
%% </ul>
%% The largest `VIGIL_WATCHDOG_RECOMMENDED_SEC' of a run under real load is the value to put
%% in the unit.
%%
%% <h3>Readiness</h3>
%% With `Type=notify', the manager waits for READY=1 for `TimeoutStartSec='. It is sent by a
%% {@link ready_spec/1} child (`Vigil.Ready') once the children before it have started, by
%% {@link ready/0}, or by {@link notify/1} with READY=1. When none of them has sent it by the
%% time the release has finished booting, i.e. when init reports `started' (every
%% application of the boot script has started, and the `-s', `-run' and `-eval' commands of
%% the command line have returned), `ready => auto' (the default) sends
%% `READY=1' with `STATUS=ready (READY=1 sent by vigil at the end of boot)'. A readiness child
%% always runs before the end of boot, since it starts inside an application's start, so it
%% wins. `ready => manual' sends nothing and logs a warning, once, that READY=1 has not been
%% sent and the manager will time out. Only under a manager (`NOTIFY_SOCKET' set). A node that
%% has finished booting before vigil starts (vigil started by hand) counts as booted when
%% vigil starts. The application is up at the first READY=1 or at the end of boot, whichever
%% comes first.
%%
%% <h3>Long boots</h3>
%% With `Type=notify', the manager gives up when READY=1 has not come within
%% `TimeoutStartSec='. Work of unknown length at boot (a migration) asks for more time as it
%% goes; each {@link extend_timeout/1} counts from the moment it is sent:
%% ```
%% migrate(Steps) ->
%%     lists:foreach(fun(Step) -> ok = vigil:extend_timeout(60000), Step() end, Steps).
%% '''
%%
%% <h3>Stopping, restarting and rebooting</h3>
%% vigil sets kernel's `shutdown_func', which the application_controller calls when it begins
%% to terminate, before any application stops, and calls the one set before it, if any. What
%% it sends depends on what init was asked:
%% <ul>
%% <li>`init:stop/0,1', and SIGTERM, which the BEAM turns into `init:stop/0': STOPPING=1 with
%%     the status line `stopping_status'. Watchdog pings end there. The VM exits with status 0
%%     (or the one given to `init:stop/1').</li>
%% <li>`init:restart/0' (`System.restart/0', a release's `bin/app restart'): the applications
%%     stop and start again in the same OS process. RELOADING=1 with MONOTONIC_USEC and
%%     `STATUS=restarting' is sent; the manager keeps the service active, in its reloading
%%     state, until READY=1, which the restarted boot sends (a readiness child, or the end of
%%     boot; see Readiness). The watchdog goes on pinging, without health checks, until vigil
%%     stops, pings once more then, and again as soon as vigil has started in the new boot: the
%%     time between these two, OTP's own restart and the start of the applications vigil
%%     depends on, must stay within `WatchdogSec=' (on OTP 25, init:restart/0 alone takes some
%%     1.3 s). The restart must end within the unit's `TimeoutStartSec=', which bounds a
%%     reload.</li>
%% <li>`init:reboot/0': without heart, the BEAM would exit with status 0 and the manager would
%%     leave the service stopped. STOPPING=1 with `STATUS=rebooting' is sent, the applications
%%     stop as on `init:stop/0', then the VM exits with status 75 (EX_TEMPFAIL in sysexits.h:
%%     a temporary failure, try again), which a unit with `RestartForceExitStatus=75' (and
%%     `SuccessExitStatus=75', so that it is not counted as a failure) restarts whatever its
%%     `Restart='. With heart running, the exit is left to it.</li>
%% </ul>
%%
%% <h3>Reload</h3>
%% {@link reload/1} wraps a reload in RELOADING=1 and READY=1. With `sighup' set to an
%% `{M, F, A}' or a fun, SIGHUP runs `reload/1' with it, for `ExecReload=/bin/kill -HUP $MAINPID'
%% or `Type=notify-reload'; `sighup => ignore' ignores the signal. Without it SIGHUP keeps the
%% BEAM's own disposition, which ends the VM.
%%
%% <h3>Socket activation and the fd store</h3>
%% With a socket unit (`ListenStream=', `FileDescriptorName='), systemd opens the sockets and
%% passes them to the service as descriptors 3 and up, named in `LISTEN_FDNAMES'; connections
%% that arrive while the service restarts wait in the socket's accept queue. When the
%% application starts, vigil takes the descriptors as sd_listen_fds_with_names(3) does: only
%% when `LISTEN_PID' is this BEAM's pid (and `LISTEN_PIDFDID', which newer systemd sets, names
%% its pidfd, where the kernel can tell), and only when `LISTEN_FDS' counts as many
%% descriptors as `LISTEN_FDNAMES' has names. It sets FD_CLOEXEC on each and removes the
%% variables from the VM's environment, so that no child process claims them. A malformed
%% environment is logged, {@link listen_fds/0} and {@link listen_options/1} return
%% `{error, {bad_listen_env, Posix}}', and the application starts all the same. The BEAM must
%% be the process systemd started: Elixir's `bin/app start' and relx's `bin/app foreground'
%% exec down to beam.smp, keeping the pid; a daemon mode (run_erl) does not.
%%
%% vigil keeps these descriptors open for as long as the VM runs, as systemd keeps its own
%% copies, and {@link listen_options/1} gives each listener a duplicate of its own:
%% ```
%% {ok, Opts} = vigil:listen_options(<<"http">>),
%% {ok, Listen} = gen_tcp:listen(0, Opts ++ [binary, {active, false}]).
%% '''
%% The port must be 0 and no `ip' or `ifaddr' be given, or gen_tcp binds again. `Opts' holds
%% the family, `{fd, Fd}' and, for a listening socket, `{backlog, N}'. The family is given as
%% the callback module, `{tcp_module, inet6_tcp}' for `[::]' (which a bare `ListenStream=80'
%% opens): the 2-tuple form of `inet6', which keyword lists hold and Ranch passes on; without it
%% gen_tcp fails with `einval' on an IPv6 socket. gen_tcp calls listen() again on the socket,
%% with a backlog of 5 unless told otherwise, and the socket is shared with systemd: the
%% default would shrink the queue that holds clients while the service restarts. N is the
%% socket's own limit, read from the kernel (TCP and AF_UNIX sockets on Linux), else
%% net.core.somaxconn, the most any listen() gets. Ranch (Cowboy) and Thousand Island (Bandit)
%% take the same options. Never shut the socket down (shutdown(2)): systemd's copy would be
%% shut down too.
%%
%% The fd store ({@link store_fds/2}) hands descriptors to systemd, which keeps them while the
%% service restarts and passes them back, with their names, as it passes sockets:
%% {@link listen_fds/0} lists them, {@link listen_options/1} finds them. systemd keeps them only
%% with `FileDescriptorStoreMax=' above 0 in the unit (the default is 0; it logs that it
%% ignored them). On systemd 252 (Debian 12) `systemctl restart' keeps the store and
%% `systemctl stop' followed by `start' empties it; `FileDescriptorStorePreserve=', which keeps
%% it for as long as the unit is loaded, needs systemd 254. A stored connection stays open in
%% systemd: when the BEAM closes it the peer gets no FIN until {@link remove_fds/1} removes it.
%% Unless stored with `poll => false' (FDPOLL=0), systemd drops a stored socket by itself when
%% it reports an error or a hang-up.
%%
%% <h3>Memory pressure</h3>
%% With `MemoryPressureWatch=' (systemd 254 and later; `on', or `auto' where the unit's memory
%% is accounted) systemd hands the service a pressure stall (PSI) trigger in
%% `MEMORY_PRESSURE_WATCH' and `MEMORY_PRESSURE_WRITE', and the kernel signals when the
%% service's processes have stalled on memory for longer than `MemoryPressureThresholdSec='
%% (systemd's default 200 ms) in a 2 s window: a hint to free memory before the OOM killer picks
%% a victim. vigil watches it from a thread of the NIF (no scheduler is blocked) and sends each
%% process that called {@link subscribe/1} `{vigil, memory_pressure, Info}', at most once every
%% `memory_pressure_interval' milliseconds (the events in between are counted in
%% `Info''s `events'). With `memory_pressure_action' set to `gc', vigil itself also
%% garbage-collects the processes using the most memory (idle processes keep dead data until
%% their next collection, which may never come), and logs what it freed; `Info''s `action'
%% says it too. Without the variables (an older systemd, no `MemoryPressureWatch=', outside
%% systemd) nothing is watched and subscribing does nothing; a watch that cannot be opened logs
%% one warning and stays off.
-module(vigil).

-export([ready/0, status/1, reloading/0, stopping/0, extend_timeout/1, errno/1, exit_status/1,
         mainpid/1, watchdog/1, notify/1, barrier/1, enabled/0]).
-export([watchdog_timeout/1, watchdog_info/0, watchdog_summary/0, reload/1, ready_spec/0,
         ready_spec/1, status_spec/1]).
-export([listen_fds/0, listen_options/1, store_fds/1, store_fds/2, remove_fds/1,
         remove_fds/2]).
-export([subscribe/1, unsubscribe/1]).

-type key() :: atom() | binary() | string().
-type value() :: binary() | string() | integer().
-type error() :: {error, inet:posix() | timeout | {invalid, key()}}.
-type reload_fun() :: vigil_reload:reload_fun().
-type watchdog_info() :: #{enabled := boolean(),
                           active := boolean(),
                           pid_mismatch := boolean(),
                           timeout := pos_integer() | undefined,
                           interval := pos_integer() | undefined,
                           pings := non_neg_integer(),
                           skipped := non_neg_integer(),
                           send_errors := non_neg_integer(),
                           last_ping_age := non_neg_integer() | undefined,
                           lateness := #{max := non_neg_integer(), p50 := non_neg_integer(),
                                         p99 := non_neg_integer()},
                           longest_check := non_neg_integer(),
                           recommended_watchdog_sec := pos_integer()}.
-type child_options() :: #{atom() => term()} | [{atom(), term()}].
-export_type([key/0, value/0, error/0, reload_fun/0, watchdog_info/0, child_options/0]).

%% A descriptor systemd passed: `family' and `type' are `undefined' when it is not a socket
%% (a file or a memfd from the fd store); `port' and `addr' are there for IP sockets, `path'
%% for AF_UNIX ones (an abstract name begins with a 0 byte), `backlog' for a listening socket
%% whose accept queue limit the kernel tells.
-type listen_fd() :: vigil_sockets:listen_fd().
-type fd_name() :: binary() | string().
%% A raw descriptor, a gen_tcp or gen_udp socket (either inet backend), or a `socket' socket.
-type fd_source() :: vigil_sockets:fd_source().
-type fd_store_options() :: #{poll => boolean(), timeout => timeout()}
                          | [{poll, boolean()} | {timeout, timeout()}].
-type listen_options() :: [vigil_sockets:listen_option()].
-export_type([listen_fd/0, fd_name/0, fd_source/0, fd_store_options/0, listen_options/0]).

%% What a memory pressure notice carries: the events folded into it, the watched path, and what
%% `memory_pressure_action' did (`none', or the processes collected and the VM's total memory
%% in bytes before and after).
-type memory_pressure_info() :: vigil_pressure:info().
-export_type([memory_pressure_info/0]).

%% @doc READY=1: start-up is finished. With `Type=notify', `systemctl start' returns now.
-spec ready() -> ok | error().
ready() ->
    deliver([{<<"READY">>, <<"1">>}]).

%% @doc STATUS=Text: a line for people, shown by `systemctl status'.
%%
%% Any text is safe here: control characters (newline, carriage return, tab, NUL) become
%% spaces, so an exception message can never add a line such as READY=1; backslashes are
%% written so that the manager shows them as typed; invalid UTF-8 becomes U+FFFD; the text is
%% cut at a character boundary to fit the 4096 bytes the manager reads.
-spec status(unicode:chardata()) -> ok | error().
status(Text) ->
    vigil_delivery:status(text_iodata(Text)).

%% @doc RELOADING=1 with MONOTONIC_USEC read from CLOCK_MONOTONIC, as `Type=notify-reload'
%% requires. Send {@link ready/0} when the reload is done.
-spec reloading() -> ok | error().
reloading() ->
    vigil_reload:reloading().

%% @doc STOPPING=1: shutdown has begun.
-spec stopping() -> ok | error().
stopping() ->
    deliver([{<<"STOPPING">>, <<"1">>}]).

%% @doc EXTEND_TIMEOUT_USEC: ask for `Ms' more milliseconds before the manager's start, stop or
%% watchdog timeout strikes, counted from now. Send it again before it runs out, e.g. between
%% the steps of a long migration at boot.
-spec extend_timeout(non_neg_integer()) -> ok | error().
extend_timeout(Ms) when is_integer(Ms), Ms >= 0 ->
    deliver([{<<"EXTEND_TIMEOUT_USEC">>, Ms * 1000}]);
extend_timeout(_) ->
    error(badarg).

%% @doc ERRNO=N: the service failed with this errno-style code.
-spec errno(non_neg_integer()) -> ok | error().
errno(N) when is_integer(N), N >= 0 ->
    deliver([{<<"ERRNO">>, N}]);
errno(_) ->
    error(badarg).

%% @doc EXIT_STATUS=N: the exit status the service is about to end with (0 to 255).
-spec exit_status(0..255) -> ok | error().
exit_status(N) when is_integer(N), N >= 0, N =< 255 ->
    deliver([{<<"EXIT_STATUS">>, N}]);
exit_status(_) ->
    error(badarg).

%% @doc MAINPID=OsPid: the service's main process is now this one.
-spec mainpid(pos_integer()) -> ok | error().
mainpid(OsPid) when is_integer(OsPid), OsPid > 0 ->
    deliver([{<<"MAINPID">>, OsPid}]);
mainpid(_) ->
    error(badarg).

%% @doc `ping' sends WATCHDOG=1 (sent once); `trigger' sends WATCHDOG=trigger, which makes
%% the manager act as if the watchdog had expired (a state change).
%%
%% `enable' and `disable' start and stop the automatic pings. Both are idempotent: enabling
%% twice keeps one schedule. Pings run when enabled (the default at start), when a timeout is
%% known (`WATCHDOG_USEC' or {@link watchdog_timeout/1}) and when `WATCHDOG_PID' does not name
%% another process. Enabling sends a ping at once. Disabling does not tell the manager: it
%% still acts when the timeout passes without a ping.
-spec watchdog(ping | trigger | enable | disable) -> ok | error().
watchdog(ping) ->
    vigil_delivery:ping();
watchdog(trigger) ->
    deliver([{<<"WATCHDOG">>, <<"trigger">>}]);
watchdog(enable) ->
    vigil_watchdog:enable();
watchdog(disable) ->
    vigil_watchdog:disable();
watchdog(_) ->
    error(badarg).

%% @doc WATCHDOG_USEC: change the manager's watchdog timeout to `Ms' milliseconds (a state
%% change), then ping at the configured fraction of it, counted from now, as the manager
%% restarts its timer when it reads the new value. On `{error, timeout}' the pings take the new
%% interval all the same: the message stays queued and reaches the manager before them.
-spec watchdog_timeout(pos_integer()) -> ok | error().
watchdog_timeout(Ms) when is_integer(Ms), Ms > 0 ->
    case deliver([{<<"WATCHDOG_USEC">>, Ms * 1000}]) of
        ok -> vigil_watchdog:set_timeout(Ms * 1000);
        {error, timeout} = Timeout -> ok = vigil_watchdog:set_timeout(Ms * 1000), Timeout;
        Error -> Error
    end;
watchdog_timeout(_) ->
    error(badarg).

%% @doc The watchdog's state and what it has measured since the application started:
%% <ul>
%% <li>`enabled': the switch of {@link watchdog/1}; `active': pings are being sent;
%%     `pid_mismatch': `WATCHDOG_PID' names another process, so no pings are sent;</li>
%% <li>`timeout', `interval': the manager's timeout and the time between pings, in
%%     milliseconds (`undefined' when no timeout is known);</li>
%% <li>`pings' sent, pings `skipped' by health checks, `send_errors' (a ping the socket
%%     refused), `last_ping_age' in milliseconds;</li>
%% <li>`lateness': how late the ping timer fired, `max', `p50' and `p99' in microseconds;
%%     `longest_check': the longest passing or failing health check, in microseconds;</li>
%% <li>`recommended_watchdog_sec': the smallest `WatchdogSec=' that keeps three times the
%%     worst delay seen before a ping (timer lateness plus the longest a round of health checks
%%     may take, its timeout) inside the part of the timeout left after the interval. Measure
%%     under production load, then write it into the unit with
%%     `vigil-unit --watchdog-sec N'.</li>
%% </ul>
-spec watchdog_info() -> watchdog_info().
watchdog_info() ->
    vigil_watchdog:info().

%% @doc Write the watchdog's summary entry to the journal now, with `VIGIL_WATCHDOG_REASON'
%% `requested' (see Watchdog), e.g. from a remote console before reading the numbers with
%% `journalctl'. Returns `ok' when journald took it, or logger where no journald listens;
%% `{error, no_watchdog}' when no manager watches this BEAM (no timeout known, or
%% `WATCHDOG_PID' names another process), and nothing is written; `{error, eagain}' when
%% journald's queue is full (nothing is retried); `{error, crashed}' after an error of
%% vigil's own, which is logged. `watchdog_summary_interval' does not matter here.
-spec watchdog_summary() -> ok | {error, no_watchdog | crashed | inet:posix()}.
watchdog_summary() ->
    vigil_watchdog:summary().

%% @doc Reload with the manager told: RELOADING=1 with MONOTONIC_USEC, then `Reload' (a fun
%% of no arguments or `{M, F, A}') runs in the calling process, then READY=1.
%%
%% `Reload' fails when it returns `{error, Reason}' or raises; READY=1 is then sent together
%% with ERRNO (from `Reason' when it is a POSIX error atom, else EINVAL) and
%% `STATUS=reload failed: Reason', and `{error, {reload_failed, Reason}}' is returned (for an
%% exception, `Reason' is `{Class, Reason}'). READY=1 is sent on failure too because the
%% service still runs: without it the manager would hold `systemctl reload', and every job
%% queued after it, until its timeout. Any other value is success. A notification error is
%% returned when the reload itself succeeded.
-spec reload(reload_fun()) -> ok | {error, {reload_failed, term()}} | error().
reload(Reload) when is_function(Reload, 0) ->
    vigil_reload:run(Reload);
reload({M, F, A} = Reload) when is_atom(M), is_atom(F), is_list(A) ->
    vigil_reload:run(Reload);
reload(_) ->
    error(badarg).

%% @equiv ready_spec(#{})
-spec ready_spec() -> supervisor:child_spec().
ready_spec() ->
    ready_spec(#{}).

%% @doc A child spec that sends READY=1, and `STATUS=' the `status' option if given, when the
%% supervisor reaches it, i.e. once the children before it have started. It is not a process:
%% its start function sends and returns `ignore'. The supervisor keeps it, so a restart of the
%% children before it (`rest_for_one', `one_for_all') sends READY=1 again, which the manager
%% ignores from a running service, and brings back the status line. Options: `status',
%% `id' (default `vigil_ready'). Without one, see Readiness.
-spec ready_spec(child_options()) -> supervisor:child_spec().
ready_spec(Options) ->
    vigil_ready:child_spec(Options).

%% @doc A child spec for a process that sends `STATUS=' the `up' option when it starts and the
%% `down' option when its supervisor stops it, before the children started before it stop
%% (it traps exits). It is a gen_server and answers `sys' calls. Options: `up', `down',
%% `id' (default `vigil_status').
-spec status_spec(child_options()) -> supervisor:child_spec().
status_spec(Options) ->
    vigil_status:child_spec(Options).

%% @doc Send assignments as given, in one datagram, after checking every key and value: a key
%% or value the manager would read differently returns `{error, {invalid, Key}}' and nothing
%% is sent. Strings are taken as Unicode and sent as UTF-8; integers in decimal. The message is
%% delivered by its class (see Delivery), as if a function of this module had sent it.
-spec notify([{key(), value()}]) -> ok | error().
notify(Pairs) when is_list(Pairs) ->
    case normalize(Pairs, []) of
        {ok, Normalized} -> deliver(Normalized);
        {invalid, _} = Invalid -> {error, Invalid}
    end;
notify(_) ->
    error(badarg).

%% @doc BARRIER=1, as sd_notify_barrier(3): returns once the manager has processed every message
%% sent before, state changes still queued included, or `{error, timeout}' after `Timeout'
%% milliseconds.
-spec barrier(timeout()) -> ok | error().
barrier(Timeout) when Timeout =:= infinity; is_integer(Timeout), Timeout >= 0 ->
    vigil_delivery:barrier(Timeout);
barrier(_) ->
    error(badarg).

%% @doc Whether a manager's address was given (`NOTIFY_SOCKET' was set when the application
%% started). When false, every call returns `ok' and sends nothing.
-spec enabled() -> boolean().
enabled() ->
    vigil_nif:enabled().

%% ---- socket activation and the fd store ----

%% @doc The descriptors systemd passed to the service, one map each, in the order of
%% `LISTEN_FDS': `name' (from `LISTEN_FDNAMES', `unknown' without it; a socket unit's name, or
%% its `FileDescriptorName='; `stored' or the `FDNAME=' given for the fd store; `connection'
%% with `Accept=yes'), `fd', `family' (`inet', `inet6', `local', ...), `type' (`stream',
%% `dgram', `seqpacket', ...), `listening', and for IP sockets `port' and `addr'. `[]' when
%% nothing was passed to this BEAM. See Socket activation and the fd store.
-spec listen_fds() -> [listen_fd()] | {error, {bad_listen_env, inet:posix()}}.
listen_fds() ->
    vigil_sockets:listen_fds().

%% @doc Options for `gen_tcp:listen(0, Opts ++ MyOpts)' on the socket passed under this name
%% (the first, when several have it; an integer picks a descriptor of {@link listen_fds/0}):
%% the family as `{tcp_module, Module}' (`inet_tcp', `inet6_tcp' or `local_tcp'), `{fd, Fd}'
%% with a duplicate that the listener owns, and for a listening socket `{backlog, N}' that keeps
%% systemd's accept queue as long as it is. Each call makes a new duplicate: call it once per
%% listener. For a datagram socket the family is `{udp_module, Module}', for
%% `gen_udp:open(0, Opts)'. With the `socket' module:
%% ```
%% {ok, Opts} = vigil:listen_options(<<"http">>),
%% {fd, Fd} = lists:keyfind(fd, 1, Opts),
%% {backlog, Backlog} = lists:keyfind(backlog, 1, Opts),
%% {ok, Socket} = socket:open(Fd, #{dup => false}),  % the socket owns the duplicate
%% ok = socket:listen(Socket, Backlog).
%% '''
%% `{error, not_found}' when no descriptor has that name, `{error, not_a_socket}' when it is
%% not an IPv4, IPv6 or AF_UNIX socket.
-spec listen_options(fd_name() | non_neg_integer()) ->
          {ok, listen_options()}
          | {error, not_found | not_a_socket | inet:posix() | {bad_listen_env, inet:posix()}}.
listen_options(Name) when is_binary(Name) ->
    vigil_sockets:listen_options(Name);
listen_options(Name) when is_list(Name) ->
    case unicode:characters_to_binary(Name) of
        Binary when is_binary(Binary) -> vigil_sockets:listen_options(Binary);
        _ -> error(badarg)
    end;
listen_options(Fd) when is_integer(Fd), Fd >= 0 ->
    vigil_sockets:listen_options(Fd);
listen_options(_) ->
    error(badarg).

%% @equiv store_fds(Entries, #{})
-spec store_fds([{fd_name(), fd_source()}]) -> ok | error() | {error, {invalid_name, term()}}.
store_fds(Entries) ->
    vigil_sockets:store_fds(Entries, #{}).

%% @doc Hand descriptors to systemd's fd store: FDSTORE=1 with FDNAME=Name, one message per
%% name carrying every descriptor given that name (SCM_RIGHTS), then BARRIER=1; returns once
%% the manager has processed them. A source is a raw descriptor, a gen_tcp or gen_udp socket
%% of either inet backend, or a `socket' socket; it stays open and the caller's, and systemd
%% keeps a duplicate. Names are ASCII without control characters, `:' or `\', 1 to 255 bytes:
%% any other is `{error, {invalid_name, Name}}' and nothing is sent. A socket that is closed is
%% `{error, ebadf}'. Options: `poll' (default true; false sends FDPOLL=0, so that systemd keeps a
%% socket that reports a hang-up), `timeout' in milliseconds (default `send_deadline'). With no
%% manager, `ok' and nothing is sent. See Socket activation and the fd store.
-spec store_fds([{fd_name(), fd_source()}], fd_store_options()) ->
          ok | error() | {error, {invalid_name, term()}}.
store_fds(Entries, Options) ->
    vigil_sockets:store_fds(Entries, Options).

%% @equiv remove_fds(Name, #{})
-spec remove_fds(fd_name()) -> ok | error() | {error, {invalid_name, term()}}.
remove_fds(Name) ->
    vigil_sockets:remove_fds(Name, #{}).

%% @doc FDSTOREREMOVE=1 with FDNAME=Name, then BARRIER=1: systemd closes every stored
%% descriptor of that name (a stored connection's peer sees it close now). Options: `timeout'.
-spec remove_fds(fd_name(), #{timeout => timeout()} | [{timeout, timeout()}]) ->
          ok | error() | {error, {invalid_name, term()}}.
remove_fds(Name, Options) ->
    vigil_sockets:remove_fds(Name, Options).

%% ---- internals ----

deliver(Pairs) ->
    vigil_delivery:deliver(Pairs).

normalize([], Acc) ->
    {ok, lists:reverse(Acc)};
normalize([{Key, Value} | Rest], Acc) when is_binary(Value); is_integer(Value) ->
    check_key_type(Key),
    normalize(Rest, [{Key, Value} | Acc]);
normalize([{Key, Value} | Rest], Acc) when is_list(Value) ->
    check_key_type(Key),
    case unicode:characters_to_binary(Value) of
        Binary when is_binary(Binary) -> normalize(Rest, [{Key, Binary} | Acc]);
        _ -> {invalid, Key}
    end;
normalize(_, _) ->
    error(badarg).

check_key_type(Key) when is_atom(Key); is_binary(Key); is_list(Key) -> ok;
check_key_type(_) -> error(badarg).

%% Text for status/1 as iodata: binaries pass as they are (the NIF replaces invalid UTF-8),
%% code points are encoded as UTF-8.
text_iodata(Text) when is_binary(Text) ->
    Text;
text_iodata(Text) when is_list(Text) ->
    case unicode:characters_to_binary(Text) of
        Binary when is_binary(Binary) -> Binary;
        _ -> chardata_iodata(Text)
    end;
text_iodata(_) ->
    error(badarg).

chardata_iodata(Binary) when is_binary(Binary) -> Binary;
chardata_iodata([]) -> [];
chardata_iodata([Head | Tail]) -> [chardata_iodata(Head) | chardata_iodata(Tail)];
chardata_iodata(CodePoint) when is_integer(CodePoint), CodePoint >= 0 -> utf8(CodePoint);
chardata_iodata(_) -> error(badarg).

utf8(CodePoint) ->
    try <<CodePoint/utf8>>
    catch error:badarg -> <<16#FFFD/utf8>>
    end.

%% @doc Receive `{vigil, memory_pressure, Info}' (see Memory pressure) in the calling process
%% until it calls {@link unsubscribe/1} or exits. `ok' also when nothing is watched: then no
%% message comes.
-spec subscribe(memory_pressure) -> ok.
subscribe(memory_pressure) ->
    vigil_pressure:subscribe(self()).

%% @doc Stop receiving memory pressure notices.
-spec unsubscribe(memory_pressure) -> ok.
unsubscribe(memory_pressure) ->
    vigil_pressure:unsubscribe(self()).

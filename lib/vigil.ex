defmodule Vigil do
  @moduledoc """
  Tell systemd how the service is doing, through the service notification protocol of
  `sd_notify(3)`. The functions delegate to the Erlang module `:vigil`.

  What the functions return, how a message waits when the manager's queue is full, and the
  application environment (`config :vigil, ...`, checked when the application starts) are
  written once, in the `:vigil` module documentation (`src/vigil.erl`): sections "Errors",
  "Delivery" and "Configuration". In Elixir, `badarg` is `ArgumentError`.

  Shutdown: `STOPPING=1`, with the status line `config :vigil, stopping_status: ...`, is
  sent when the application controller begins to terminate, before any application stops:
  on `System.stop/0`, `:init.stop/0` and SIGTERM. `System.restart/0` (`bin/app restart`) is
  reported as a reload instead: `RELOADING=1`, then `READY=1` once the applications have
  started again, the watchdog pinging throughout. `:init.reboot/0` sends `STOPPING=1` and
  exits with status 75 once the applications have stopped, for the unit's
  `RestartForceExitStatus=75`. See "Stopping, restarting and rebooting" in the `:vigil`
  documentation, and `Vigil.Ready` and `Vigil.Status` for the supervision tree.
  """

  @typedoc "An assignment name: an atom, a binary or a charlist of `[A-Z_][A-Z0-9_]*`."
  @type key :: atom() | binary() | charlist()
  @typedoc "An assignment value; strings are sent as UTF-8, integers in decimal."
  @type value :: binary() | charlist() | integer()
  @typedoc "What a call returns when it did not send."
  @type error :: {:error, :inet.posix() | :timeout | {:invalid, key()}}

  @doc """
  `READY=1`: start-up is finished. With `Type=notify`, `systemctl start` returns now.

  Usually sent by a `Vigil.Ready` child. When nothing has sent it by the end of the boot,
  vigil sends it then (`config :vigil, ready: :auto`, the default); with `ready: :manual` it
  logs a warning instead.
  """
  @spec ready() :: :ok | error()
  defdelegate ready(), to: :vigil

  @doc """
  `STATUS=text`: a line for people, shown by `systemctl status`.

  Any text is safe: control characters become spaces (so an exception message can never add
  a line such as `READY=1`), backslashes are shown as typed, invalid UTF-8 becomes U+FFFD, and
  the text is cut at a character boundary to fit the 4096 bytes the manager reads.
  """
  @spec status(IO.chardata()) :: :ok | error()
  defdelegate status(text), to: :vigil

  @doc "`RELOADING=1` with `MONOTONIC_USEC` from `CLOCK_MONOTONIC`; send `ready/0` when done."
  @spec reloading() :: :ok | error()
  defdelegate reloading(), to: :vigil

  @doc "`STOPPING=1`: shutdown has begun."
  @spec stopping() :: :ok | error()
  defdelegate stopping(), to: :vigil

  @doc """
  `EXTEND_TIMEOUT_USEC`: ask for `ms` more milliseconds before the manager's start, stop or
  watchdog timeout strikes, counted from now. Send it again before it runs out, e.g. between
  the steps of a long migration at boot:

      for migration <- migrations do
        :ok = Vigil.extend_timeout(60_000)
        run(migration)
      end
  """
  @spec extend_timeout(non_neg_integer()) :: :ok | error()
  defdelegate extend_timeout(ms), to: :vigil

  @doc "`ERRNO=n`: the service failed with this errno-style code."
  @spec errno(non_neg_integer()) :: :ok | error()
  defdelegate errno(n), to: :vigil

  @doc "`EXIT_STATUS=n`: the exit status the service is about to end with (0 to 255)."
  @spec exit_status(0..255) :: :ok | error()
  defdelegate exit_status(n), to: :vigil

  @doc "`MAINPID=os_pid`: the service's main process is now this one."
  @spec mainpid(pos_integer()) :: :ok | error()
  defdelegate mainpid(os_pid), to: :vigil

  @doc """
  `:ping` sends `WATCHDOG=1` (sent once: the next ping follows); `:trigger` sends
  `WATCHDOG=trigger`, which makes the manager act as if the watchdog had expired.

  `:enable` and `:disable` start and stop the automatic pings; both are idempotent (enabling
  twice keeps one schedule). Pings run when enabled (the default), when a timeout is known
  (`WATCHDOG_USEC` or `watchdog_timeout/1`) and when `WATCHDOG_PID` does not name another
  process; enabling pings at once. Disabling does not tell the manager, which still acts when
  the timeout passes without a ping.

  Health checks run before every automatic ping once the application is up (`READY=1` sent,
  or the release booted); a failing one skips it:

      config :vigil,
        health_checks: [{MyApp.Health, :check, []}, {&MyApp.Repo.healthy?/0, 500}],
        watchdog_fraction: 0.25,
        watchdog_trigger_after: 3

  A check passes when it returns `:ok`, `true` or `{:ok, _}`; each runs in a process of its
  own under its timeout (default 1000 ms), and a warning names the one that failed. The
  failure that lets the manager's watchdog expire is logged as an error, always, and shown
  in the status line:

      vigil: health check MyApp.Health.check/0 failed: ** (RuntimeError) boom; watchdog
      ping skipped, and the manager's watchdog will expire (WatchdogSec=): ...
  `watchdog_trigger_after: n` sends `WATCHDOG=trigger` after `n` skipped pings in a row; it
  must fire before the manager's timeout, so `n * watchdog_fraction` must stay below 1 (here
  0.75), or the application does not start.
  """
  @spec watchdog(:ping | :trigger | :enable | :disable) :: :ok | error()
  defdelegate watchdog(action), to: :vigil

  @doc """
  `WATCHDOG_USEC`: change the manager's watchdog timeout to `ms` milliseconds, then ping at
  the configured fraction of it (`config :vigil, watchdog_fraction: 0.5`), counted from now.
  """
  @spec watchdog_timeout(pos_integer()) :: :ok | error()
  defdelegate watchdog_timeout(ms), to: :vigil

  @doc """
  The watchdog's state and measurements since start: `:enabled`, `:active`, `:pid_mismatch`,
  `:timeout` and `:interval` (ms), `:pings`, `:skipped`, `:send_errors`, `:last_ping_age`
  (ms), `:lateness` (`:max`, `:p50`, `:p99` in µs), `:longest_check` (µs) and
  `:recommended_watchdog_sec`, the smallest `WatchdogSec=` that leaves three times the worst
  delay seen. Measure under production load, then write it into the unit with
  `vigil-unit --watchdog-sec N`.
  """
  @spec watchdog_info() :: :vigil.watchdog_info()
  defdelegate watchdog_info(), to: :vigil

  @doc """
  Write the watchdog's summary entry to the journal now, e.g. from a remote console, and find
  it with `journalctl -u my_app MESSAGE_ID=7ae7a1b7f796442bb549d9dfeacc97af`. The same entry
  is written every `config :vigil, watchdog_summary_interval: ms` (an hour by default) and when
  the watchdog stops; its fields are listed under "Watchdog" in the `:vigil` documentation.

  Returns `:ok` when journald took it (or, where no journald listens, logger);
  `{:error, :no_watchdog}` when no manager watches this BEAM (no `WATCHDOG_USEC`), and nothing
  is written; `{:error, :eagain}` when journald's queue is full; `{:error, :crashed}` after an
  error of vigil's own, which is logged.
  """
  @spec watchdog_summary() :: :ok | {:error, :no_watchdog | :crashed | :inet.posix()}
  defdelegate watchdog_summary(), to: :vigil

  @doc """
  Reload with the manager told: `RELOADING=1` with `MONOTONIC_USEC`, then `reload` (a
  function of no arguments or `{m, f, a}`) runs in the calling process, then `READY=1`.

  `reload` fails when it returns `{:error, reason}` or raises; `READY=1` is then sent with
  `ERRNO` and `STATUS=reload failed: …` (the service still runs its previous configuration),
  and `{:error, {:reload_failed, reason}}` is returned.

  With `config :vigil, sighup: {MyApp.Config, :reload, []}`, SIGHUP runs this, for
  `ExecReload=/bin/kill -HUP $MAINPID` or `Type=notify-reload`.
  """
  @spec reload((() -> term()) | {module(), atom(), list()}) ::
          :ok | {:error, {:reload_failed, term()}} | error()
  defdelegate reload(reload), to: :vigil

  @doc """
  Send assignments as given, in one datagram, after checking every key and value; a key or
  value the manager would read differently returns `{:error, {:invalid, key}}` and nothing is
  sent. The message is delivered by its class, whichever function sends it.

      Vigil.notify([{"STATUS", "migrating"}, {:EXTEND_TIMEOUT_USEC, 30_000_000}])
  """
  @spec notify([{key(), value()}]) :: :ok | error()
  defdelegate notify(pairs), to: :vigil

  @doc """
  `BARRIER=1`, as `sd_notify_barrier(3)`: returns once the manager has processed every message
  sent before, state changes still queued included, or `{:error, :timeout}` after `timeout`
  milliseconds.
  """
  @spec barrier(timeout()) :: :ok | error()
  defdelegate barrier(timeout), to: :vigil

  @doc "Whether a manager's address was given when the application started."
  @spec enabled?() :: boolean()
  defdelegate enabled?(), to: :vigil, as: :enabled

  # ---- socket activation and the fd store ----

  @typedoc "A descriptor systemd passed to the service (see `listen_fds/0`)."
  @type listen_fd :: :vigil.listen_fd()
  @typedoc "A name in the fd store or in `LISTEN_FDNAMES`."
  @type fd_name :: String.t() | charlist()
  @typedoc "A raw descriptor, a `:gen_tcp` or `:gen_udp` socket (either backend), or a `:socket`."
  @type fd_source :: :vigil.fd_source()

  @doc """
  The descriptors systemd passed to the service (socket activation, and the fd store's
  descriptors coming back), one map each: `:name`, `:fd`, `:family` (`:inet`, `:inet6`,
  `:local`, ...), `:type` (`:stream`, `:dgram`, `:seqpacket`, ...), `:listening`, and for IP
  sockets `:port` and `:addr`. `[]` when nothing was passed to this BEAM.

  vigil takes them when it starts, as `sd_listen_fds_with_names(3)` does: `LISTEN_PID` must be
  this BEAM (Elixir's `bin/app start`, not `daemon`), the count must match
  `LISTEN_FDNAMES`, each gets `FD_CLOEXEC`, and the variables leave the environment. A malformed
  environment is logged and returned as `{:error, {:bad_listen_env, posix}}`.
  """
  @spec listen_fds() :: [listen_fd()] | {:error, {:bad_listen_env, :inet.posix()}}
  defdelegate listen_fds(), to: :vigil

  @doc """
  Options for `:gen_tcp.listen(0, opts ++ my_opts)` on the socket passed under `name` (or the
  descriptor `fd` of `listen_fds/0`), as a keyword list: the family as
  `tcp_module: :inet6_tcp` for `[::]` (`:inet_tcp`, `:local_tcp`; `udp_module:` for a
  datagram socket), `fd:` a duplicate the listener owns (a new one each call), and for a
  listening socket `backlog:`, the socket's own accept queue limit. Without it gen_tcp would
  listen again with a backlog of 5, on the queue systemd shares with the service.

      {:ok, opts} = Vigil.listen_options("http")
      children = [
        {Bandit, plug: MyApp.Router, port: 0, thousand_island_options: [transport_options: opts]}
      ]

  `{:error, :not_found}` when nothing has that name, `{:error, :not_a_socket}` when it is not an
  IPv4, IPv6 or AF_UNIX socket.
  """
  @spec listen_options(fd_name() | non_neg_integer()) ::
          {:ok, :vigil.listen_options()}
          | {:error,
             :not_found | :not_a_socket | :inet.posix() | {:bad_listen_env, :inet.posix()}}
  defdelegate listen_options(name_or_fd), to: :vigil

  @doc """
  Hand descriptors to systemd's fd store, which keeps them while the service restarts and
  passes them back through `listen_fds/0`: `FDSTORE=1` with `FDNAME=name`, one message per name
  with every descriptor of that name, then `BARRIER=1`; returns once the manager has processed
  them.

      {:ok, listen} = :gen_tcp.listen(4000, [:binary, backlog: 1024])
      :ok = Vigil.store_fds([{"http", listen}])

  Names are ASCII without control characters, `:` or backslash, 1 to 255 bytes (else
  `{:error, {:invalid_name, name}}`, nothing sent). Options: `poll: false` (`FDPOLL=0`: systemd
  keeps a socket that reports a hang-up), `timeout:` in milliseconds. The unit needs
  `FileDescriptorStoreMax=`; on systemd 252 `systemctl restart` keeps the store, `stop` and
  `start` empty it.
  """
  @spec store_fds([{fd_name(), fd_source()}], :vigil.fd_store_options()) ::
          :ok | error() | {:error, {:invalid_name, term()}}
  defdelegate store_fds(entries, options \\ []), to: :vigil

  @doc """
  `FDSTOREREMOVE=1` with `FDNAME=name`, then `BARRIER=1`: systemd closes every stored
  descriptor of that name (a stored connection's peer sees it close only now).
  """
  @spec remove_fds(fd_name(), keyword() | map()) ::
          :ok | error() | {:error, {:invalid_name, term()}}
  defdelegate remove_fds(name, options \\ []), to: :vigil

  @doc """
  Receive `{:vigil, :memory_pressure, info}` at each memory pressure event systemd's
  `MemoryPressureWatch=` signals (rate-limited; see the Memory pressure section of `:vigil`).
  `:ok` also when nothing is watched: then no message comes.
  """
  @spec subscribe(:memory_pressure) :: :ok
  defdelegate subscribe(event), to: :vigil

  @doc "Stop receiving memory pressure notices."
  @spec unsubscribe(:memory_pressure) :: :ok
  defdelegate unsubscribe(event), to: :vigil
end

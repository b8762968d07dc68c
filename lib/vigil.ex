defmodule Vigil do
  @moduledoc """
  Tell systemd how the service is doing, through the service notification protocol of
  `sd_notify(3)`.

  Every function returns `:ok` when the message was sent, and also when there is no manager to
  send it to (no `NOTIFY_SOCKET`, as on a developer's machine or under `mix test`).

  Errors:

    * `ArgumentError` is raised for an argument of the wrong type;
    * `{:error, {:invalid, key}}`: the key or its value would not reach the manager as given
      (a newline, carriage return, NUL or backslash in a value, a key outside
      `[A-Z_][A-Z0-9_]*`, a `STATUS` that is not valid UTF-8); nothing is sent;
    * `{:error, :emsgsize}`: the message is longer than the 4096 bytes the manager reads;
    * `{:error, :timeout}`: a state change could not be delivered before the `:send_deadline`
      because the manager's queue stayed full, or a barrier was not passed in time;
    * `{:error, posix}`: the socket failed, e.g. `:econnrefused` or `:enoent` while the manager
      is not there (the next call reconnects by itself), or `:eagain` for a watchdog ping the
      full queue refused.

  When the manager's queue is full, state changes (READY, RELOADING, STOPPING, ERRNO,
  EXIT_STATUS, MAINPID, EXTEND_TIMEOUT_USEC, WATCHDOG=trigger) are retried without blocking a
  scheduler until delivered or until `config :vigil, send_deadline: ms` (default 10000) passes,
  and the calling process waits for the outcome; `STATUS` is latest-wins and the caller does
  not wait; watchdog pings are not retried.
  """

  @typedoc "An assignment name: an atom, a binary or a charlist of `[A-Z_][A-Z0-9_]*`."
  @type key :: atom() | binary() | charlist()
  @typedoc "An assignment value; strings are sent as UTF-8, integers in decimal."
  @type value :: binary() | charlist() | integer()
  @typedoc "What a call returns when it did not send."
  @type error :: {:error, :inet.posix() | :timeout | {:invalid, key()}}

  @doc "`READY=1`: start-up is finished. With `Type=notify`, `systemctl start` returns now."
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
  the steps of a long migration at boot.
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
  `:ping` sends `WATCHDOG=1` (not retried when the queue is full: the next ping follows);
  `:trigger` sends `WATCHDOG=trigger`, which makes the manager act as if the watchdog had
  expired.
  """
  @spec watchdog(:ping | :trigger) :: :ok | error()
  defdelegate watchdog(action), to: :vigil

  @doc """
  Send assignments as given, in one datagram, after checking every key and value; a key or
  value the manager would read differently returns `{:error, {:invalid, key}}` and nothing is
  sent.

      Vigil.notify([{"STATUS", "migrating"}, {:EXTEND_TIMEOUT_USEC, 30_000_000}])
  """
  @spec notify([{key(), value()}]) :: :ok | error()
  defdelegate notify(pairs), to: :vigil

  @doc """
  `BARRIER=1`, as `sd_notify_barrier(3)`: returns once the manager has processed every message
  sent before, or `{:error, :timeout}` after `timeout` milliseconds.
  """
  @spec barrier(timeout()) :: :ok | error()
  defdelegate barrier(timeout), to: :vigil

  @doc "Whether a manager's address was given when the application started."
  @spec enabled?() :: boolean()
  defdelegate enabled?(), to: :vigil, as: :enabled
end

defmodule Vigil.MixProject do
  use Mix.Project

  def project do
    [
      app: :vigil,
      version: "0.1.0",
      elixir: "~> 1.14",
      compilers: [:vigil_c] ++ Mix.compilers(),
      erlc_paths: ["src"],
      erlc_options: [:debug_info, :warnings_as_errors],
      elixirc_paths: ["lib"],
      test_paths: ["test"],
      test_pattern: "*_test.exs",
      start_permanent: Mix.env() == :prod,
      deps: [],
      docs: [main: "Vigil"]
    ]
  end

  # Keep in step with src/vigil.app.src, which rebar3 reads instead. The application
  # environment's defaults and checks are in src/vigil_config.erl.
  def application do
    [
      mod: {:vigil_app, []},
      registered: [:vigil_sup, :vigil_delivery, :vigil_boot, :vigil_watchdog]
    ]
  end
end

defmodule Mix.Tasks.Compile.VigilC do
  @moduledoc false
  # Builds the NIF, the unit generator and the templates with the project's Makefile.
  use Mix.Task.Compiler

  @impl Mix.Task.Compiler
  def run(_args) do
    # The artefacts go where mix looks for them: the app's build directory, whether or not its
    # priv/ is a link to the sources' (see PRIV in the Makefile).
    priv = Path.join(Mix.Project.app_path(), "priv")
    make = ["-s", "all", "PRIV=#{priv}"]

    case System.cmd(gnu_make(), make,
           cd: __DIR__,
           into: IO.stream(:stdio, :line),
           stderr_to_stdout: true
         ) do
      {_, 0} -> {:ok, []}
      {_, status} -> Mix.raise("make all failed with status #{status}")
    end
  end

  # The Makefile is GNU make's: on FreeBSD that is gmake, make being BSD make.
  defp gnu_make do
    case :os.type() do
      {:unix, :freebsd} -> "gmake"
      _ -> "make"
    end
  end
end

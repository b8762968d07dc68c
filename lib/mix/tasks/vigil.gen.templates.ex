defmodule Mix.Tasks.Vigil.Gen.Templates do
  @shortdoc "Copies vigil's unit templates for customisation"
  @moduledoc """
  Copies the templates that `mix vigil.gen.unit` uses into `rel/templates/systemd` (or the
  directory given as argument). Pass `templates: "rel/templates/systemd"` in
  `config :vigil, :unit` (in `config/vigil_unit.exs`) to use them.
  """
  use Mix.Task

  @impl Mix.Task
  def run(args) do
    dir = List.first(args) || "rel/templates/systemd"

    case System.cmd(Mix.Tasks.Vigil.Gen.Unit.generator(), ["--init-templates", dir],
           stderr_to_stdout: true
         ) do
      {_, 0} -> Mix.shell().info("vigil: templates copied to #{dir}")
      {output, status} -> Mix.raise("vigil-unit failed (#{status}): #{output}")
    end
  end
end

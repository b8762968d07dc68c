defmodule Shop.MixProject do
  use Mix.Project

  def project do
    [
      app: :shop,
      version: "0.1.0",
      elixir: "~> 1.14",
      start_permanent: Mix.env() == :prod,
      deps: [{:vigil, path: "../.."}],
      releases: [
        shop: [
          include_erts: true,
          include_executables_for: [:unix],
          strip_beams: true,
          # Loaded, not started: TLS distribution (vigil-unit's distribution = tls) starts it.
          applications: [ssl: :load]
        ]
      ]
    ]
  end

  def application do
    [mod: {Shop.Application, []}, extra_applications: [:logger]]
  end
end

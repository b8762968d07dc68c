# mk/core.mk: the notification core (C, no Erlang), the NIF, the Erlang/Elixir API and their tests.

APT_PACKAGES += erlang-dev erlang-nox erlang-eunit erlang-dialyzer erlang-tools elixir rebar3 \
	libcmocka-dev libsystemd-dev valgrind cppcheck clang-tidy clang-format libclang-rt-14-dev

ALL_TARGETS += $(PRIV)/vigil_nif.so

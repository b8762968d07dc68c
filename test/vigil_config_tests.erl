%% The application environment is checked once, at start: a bad value stops the start with
%% {bad_config, Key, Value}; good values and the defaults start it.
-module(vigil_config_tests).

-include_lib("eunit/include/eunit.hrl").

-export([log/2]).


-define(KEYS, [send_deadline, watchdog_fraction, health_checks, watchdog_trigger_after,
               watchdog_summary_interval, journal_socket, stopping_status, sighup, ready, unit,
               send_dealine]).

%% Start the application with `Env' as its environment; returns what application:start/1 did.
start_with(Env) ->
    vigil_test_receiver:start_vigil_without_manager(),
    ok = application:stop(vigil),
    [application:unset_env(vigil, K) || K <- ?KEYS],
    [ok = application:set_env(vigil, K, V) || {K, V} <- Env],
    application:start(vigil).

cleanup(_) ->
    [application:unset_env(vigil, K) || K <- ?KEYS],
    vigil_test_receiver:start_vigil_without_manager().

refused(Key, Value) ->
    refused(Key, Value, Value).

%% The error names the key and the value at fault: for a list of checks, the entry.
refused(Key, Value, Named) ->
    {lists:flatten(io_lib:format("~p = ~0tp is refused", [Key, Value])),
     fun() ->
             %% The application_master's crash report is expected: keep it out of the output.
             logger:set_primary_config(level, critical),
             Result = start_with([{Key, Value}]),
             logger:set_primary_config(level, notice),
             ?assertMatch({error, {{bad_config, Key, Named}, {vigil_app, start, _}}}, Result),
             ?assertEqual(undefined, whereis(vigil_sup))
     end}.

accepted(Env) ->
    {lists:flatten(io_lib:format("~0tp is accepted", [Env])),
     fun() -> ?assertEqual(ok, start_with(Env)) end}.

bad_values_test_() ->
    {foreach, fun() -> ok end, fun cleanup/1,
     [refused(send_deadline, -1),
      refused(send_deadline, "10000"),
      refused(send_deadline, 1.5),
      refused(watchdog_fraction, 0),
      refused(watchdog_fraction, 1),
      refused(watchdog_fraction, half),
      refused(health_checks, not_a_list),
      refused(health_checks, [not_a_check], not_a_check),
      refused(health_checks, [{m, f, []}, {{m, f, []}, 0}], {{m, f, []}, 0}),
      refused(health_checks, [#{check => {m, f, []}, timeot => 5}],
              #{check => {m, f, []}, timeot => 5}),
      refused(health_checks, [#{timeout => 5}], #{timeout => 5}),
      refused(watchdog_trigger_after, 0),
      refused(watchdog_trigger_after, -3),
      refused(watchdog_trigger_after, never),
      refused(watchdog_summary_interval, 0),
      refused(watchdog_summary_interval, -1),
      refused(watchdog_summary_interval, 1.5),
      refused(watchdog_summary_interval, "3600000"),
      refused(watchdog_summary_interval, true),
      refused(journal_socket, ""),
      refused(journal_socket, 42),
      refused(journal_socket, "run/systemd/journal/socket"),
      refused(journal_socket, "vsock:2:1234"),
      refused(journal_socket, <<"/run/a", 0, "b">>),
      %% Longer than an AF_UNIX address holds (108 bytes on Linux, with the path's NUL).
      refused(journal_socket, "/" ++ lists:duplicate(107, $j)),
      refused(stopping_status, 42),
      refused(stopping_status, [16#110000]),
      refused(sighup, "reload"),
      refused(sighup, {m, f}),
      refused(sighup, fun(_) -> ok end),
      %% A key vigil does not know is a typo until proven otherwise.
      refused(send_dealine, 5000),
      refused(ready, automatic),
      refused(ready, "manual"),
      %% Three skipped pings at half the timeout each fall after it: never acts.
      refused_together([{watchdog_trigger_after, 3}], watchdog_trigger_after, 3),
      refused_together([{watchdog_trigger_after, 2}], watchdog_trigger_after, 2),
      refused_together([{watchdog_trigger_after, 4}, {watchdog_fraction, 0.25}],
                       watchdog_trigger_after, 4),
      refused_together([{watchdog_trigger_after, 10}, {watchdog_fraction, 0.1}],
                       watchdog_trigger_after, 10)]}.

%% Values valid alone, refused together: the error names the first key, and the log says why.
refused_together(Env, Key, Value) ->
    {lists:flatten(io_lib:format("~0tp is refused", [Env])),
     fun() ->
             logger:set_primary_config(level, critical),
             Result = start_with(Env),
             logger:set_primary_config(level, notice),
             ?assertMatch({error, {{bad_config, Key, Value}, {vigil_app, start, _}}}, Result)
     end}.

trigger_after_reason_logged_test_() ->
    {setup, fun() -> ok end, fun cleanup/1,
     fun() ->
             Self = self(),
             ok = logger:add_handler(?MODULE, ?MODULE, #{level => error, config => Self}),
             try
                 logger:set_primary_config(level, error),
                 ?assertMatch({error, _}, start_with([{watchdog_trigger_after, 3}])),
                 logger:set_primary_config(level, notice),
                 Text = receive {log, T} -> T after 1000 -> error(no_log) end,
                 ?assertNotEqual(nomatch, binary:match(Text, <<"watchdog_trigger_after 3">>)),
                 ?assertNotEqual(nomatch, binary:match(Text, <<"at most 1">>)),
                 ?assertNotEqual(nomatch, binary:match(Text, <<"below 0.3333">>))
             after
                 logger:remove_handler(?MODULE)
             end
     end}.

-spec log(logger:log_event(), logger:handler_config()) -> term().
log(#{msg := {Format, Args}}, #{config := Pid}) when is_list(Format) ->
    Text = iolist_to_binary(io_lib:format(Format, Args)),
    case binary:match(Text, <<"watchdog_trigger_after">>) of
        nomatch -> ok;
        _ -> Pid ! {log, Text}
    end;
log(_Event, _Config) ->
    ok.

good_values_test_() ->
    {foreach, fun() -> ok end, fun cleanup/1,
     [accepted([]),
      accepted([{send_deadline, 0}]),
      accepted([{send_deadline, infinity}]),
      accepted([{watchdog_fraction, 0.25}]),
      accepted([{health_checks, [{m, f, []}, fun() -> ok end, {{m, f, []}, 50},
                                 #{check => {m, f, []}, timeout => 5, name => "db"}]}]),
      accepted([{watchdog_trigger_after, 1}]),
      accepted([{watchdog_trigger_after, 3}, {watchdog_fraction, 0.25}]),
      accepted([{watchdog_trigger_after, 9}, {watchdog_fraction, 0.1}]),
      accepted([{watchdog_summary_interval, 1}]),
      accepted([{watchdog_summary_interval, infinity}]),
      accepted([{watchdog_summary_interval, false}]),
      accepted([{journal_socket, "/tmp/no-journal-here/socket"}]),
      accepted([{journal_socket, <<"@journal">>}]),
      accepted([{journal_socket, "/" ++ lists:duplicate(106, $j)}]),
      accepted([{ready, manual}]),
      accepted([{ready, auto}]),
      accepted([{watchdog_trigger_after, infinity}]),
      accepted([{stopping_status, <<"arrêt"/utf8>>}]),
      accepted([{stopping_status, ["draining ", <<"connections">>]}]),
      accepted([{sighup, ignore}]),
      accepted([{sighup, {m, f, []}}]),
      accepted([{unit, [{env_vars, ["PORT=4000"]}]}])]}.

%% The defaults are written once, in vigil_config: the application's own environment is empty.
defaults_test_() ->
    {setup, fun() -> start_with([]) end, fun cleanup/1,
     [?_assertEqual([], application:get_all_env(vigil)),
      ?_assertEqual(10000, vigil_config:get(send_deadline)),
      ?_assertEqual(0.5, vigil_config:get(watchdog_fraction)),
      ?_assertEqual([], vigil_config:get(health_checks)),
      ?_assertEqual(infinity, vigil_config:get(watchdog_trigger_after)),
      ?_assertEqual(3600000, vigil_config:get(watchdog_summary_interval)),
      ?_assertEqual(<<"/run/systemd/journal/socket">>, vigil_config:get(journal_socket)),
      ?_assertEqual(<<"stopping">>, vigil_config:get(stopping_status)),
      ?_assertEqual(undefined, vigil_config:get(sighup)),
      ?_assertEqual(auto, vigil_config:get(ready))]}.

%% Checks come out in one form, named as their language writes them.
health_check_names_test_() ->
    {setup,
     fun() -> start_with([{health_checks, [{'Elixir.Shop.Health', check, []},
                                           {{shop_db, ping, [1]}, 200},
                                           #{check => {m, f, []}, name => <<"db">>}]}])
     end,
     fun cleanup/1,
     ?_assertMatch([#{name := <<"Shop.Health.check/0">>, timeout := 1000},
                    #{name := <<"shop_db:ping/1">>, timeout := 200},
                    #{name := <<"db">>, check := {m, f, []}}],
                   vigil_config:get(health_checks))}.

#!/usr/bin/python3
"""Writes the Grafana dashboards in grafana/*.json. Edit this file, run it, commit both.

Every panel and target names the datasource variable ${datasource}; every dashboard has a $problem variable.
Queries use $__rate_interval so that they work with any scrape interval.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
DS = {"type": "prometheus", "uid": "${datasource}"}
RI = "$__rate_interval"
P = 'problem="$problem"'


def datasource_var():
    return {"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus",
            "current": {}, "hide": 0, "refresh": 1, "regex": "", "options": []}


def query_var(name, label, query, current, include_all=False):
    return {"name": name, "label": label, "type": "query", "datasource": DS,
            "definition": query, "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "current": {"selected": True, "text": current, "value": current}, "refresh": 2, "sort": 1,
            "includeAll": include_all, "multi": False, "hide": 0, "regex": "", "options": []}


PROBLEM_VAR = query_var("problem", "Problem", "label_values(rdv_rendezvous_schedule_version, problem)",
                        "breast-cancer")


class Dashboard:
    def __init__(self, uid, title, description, variables):
        self.uid, self.title, self.description = uid, title, description
        self.variables = [datasource_var(), PROBLEM_VAR] + variables
        self.panels = []
        self.x = self.y = 0
        self.row_h = 0

    def panel(self, kind, title, targets, w=12, h=8, unit=None, description=None, options=None,
              field=None, overrides=None):
        if self.x + w > 24:
            self.x, self.y = 0, self.y + self.row_h
            self.row_h = 0
        defaults = {"unit": unit} if unit else {}
        if field:
            defaults.update(field)
        p = {"id": len(self.panels) + 1, "type": kind, "title": title, "datasource": DS,
             "gridPos": {"h": h, "w": w, "x": self.x, "y": self.y},
             "fieldConfig": {"defaults": defaults, "overrides": overrides or []},
             "options": options or {}, "targets": []}
        if description:
            p["description"] = description
        for i, t in enumerate(targets):
            expr, legend = t[0], t[1]
            target = {"refId": chr(ord("A") + i), "datasource": DS, "expr": expr, "legendFormat": legend,
                      "range": True, "instant": False}
            if len(t) > 2:
                target.update(t[2])
            p["targets"].append(target)
        self.panels.append(p)
        self.x += w
        self.row_h = max(self.row_h, h)
        return p

    def row(self, title):
        self.x, self.y = 0, self.y + self.row_h
        self.row_h = 1
        self.panels.append({"id": len(self.panels) + 1, "type": "row", "title": title, "collapsed": False,
                            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}, "panels": []})
        self.x, self.y, self.row_h = 0, self.y + 1, 0

    def write(self, name):
        d = {"uid": self.uid, "title": self.title, "description": self.description, "tags": ["rendezvous"],
             "timezone": "browser", "schemaVersion": 39, "version": 1, "editable": True,
             "graphTooltip": 1, "refresh": "10s", "time": {"from": "now-30m", "to": "now"},
             "templating": {"list": self.variables}, "annotations": {"list": []}, "links": [
                 {"title": "Rendezvous", "type": "dashboards", "tags": ["rendezvous"], "asDropdown": True}],
             "panels": self.panels}
        with open(os.path.join(HERE, "grafana", name), "w") as f:
            json.dump(d, f, indent=2)
            f.write("\n")


def q(quantile, metric, by, selector):
    return f'histogram_quantile({quantile}, sum by (le{", " + by if by else ""}) (rate({metric}_bucket{{{selector}}}[{RI}])))'


def ratio(num, den):
    return f"({num}) / ({den})"


PERCENT = {"min": 0, "max": 1}
DEADLINE_OVERRIDE = [{"matcher": {"id": "byRegexp", "options": "deadline|tier.*"},
                      "properties": [{"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [6, 4]}},
                                     {"id": "color", "value": {"mode": "fixed", "fixedColor": "red"}}]}]
CANARY_OVERRIDE = [{"matcher": {"id": "byRegexp", "options": ".*canary.*"},
                    "properties": [{"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [8, 4]}},
                                   {"id": "custom.lineWidth", "value": 3},
                                   {"id": "color", "value": {"mode": "fixed", "fixedColor": "text"}}]}]


def sla():
    d = Dashboard("rdv-sla", "Rendezvous / SLA overview",
                  "Is the SLA holding? Attainment, latency against the deadline, who answers and how often the "
                  "default is returned, for one problem.", [])
    d.panel("stat", "SLA attainment (answers by the deadline)", [(ratio(
        f'sum(rate(rdv_proxy_sla_total{{{P},result="met"}}[{RI}]))',
        f'sum(rate(rdv_proxy_sla_total{{{P}}}[{RI}]))'), "attainment")], w=6, h=5, unit="percentunit",
        field=PERCENT, description="Share of answers the proxy wrote by the request's deadline.")
    d.panel("stat", "Answered by a model (not the default)", [(
        f'1 - ' + ratio(f'sum(rate(rdv_proxy_defaults_total{{{P}}}[{RI}]))',
                        f'sum(rate(rdv_proxy_answers_total{{{P}}}[{RI}]))'), "model answers")],
        w=6, h=5, unit="percentunit", field=PERCENT)
    d.panel("stat", "Rendezvous decisions in time", [(ratio(
        f'sum(rate(rdv_rendezvous_sla_total{{{P},result="met"}}[{RI}]))',
        f'sum(rate(rdv_rendezvous_sla_total{{{P}}}[{RI}]))'), "in time")], w=6, h=5, unit="percentunit",
        field=PERCENT, description="Share of decisions the rendezvous made before the request's deadline.")
    d.panel("stat", "Schedule version in force", [(f'max(rdv_rendezvous_schedule_version{{{P}}})', "version")],
            w=6, h=5, unit="none")
    d.panel("timeseries", "End-to-end latency against the deadline", [
        (q(0.5, "rdv_proxy_request_duration_seconds", "", P), "p50"),
        (q(0.99, "rdv_proxy_request_duration_seconds", "", P), "p99"),
        (f'max(rdv_rendezvous_schedule_deadline_seconds{{{P}}})', "deadline"),
        (f'max by (tier) (rdv_rendezvous_schedule_tier_end_seconds{{{P}}})', "tier {{tier}} ends")],
        unit="s", overrides=DEADLINE_OVERRIDE)
    d.panel("timeseries", "Decision latency at the rendezvous (p99)", [
        (q(0.99, "rdv_rendezvous_decision_latency_seconds", "outcome", P), "{{outcome}} p99"),
        (f'max(rdv_rendezvous_schedule_deadline_seconds{{{P}}})', "deadline")], unit="s",
        overrides=DEADLINE_OVERRIDE)
    d.panel("timeseries", "Answers by model and tier", [
        (f'sum by (answered_by, tier) (rate(rdv_proxy_answers_total{{{P}}}[{RI}]))', "{{answered_by}} tier {{tier}}")],
        unit="reqps", field={"custom": {"stacking": {"mode": "normal"}, "fillOpacity": 30}})
    d.panel("timeseries", "Defaults by reason", [
        (f'sum by (reason, decided_by) (rate(rdv_proxy_defaults_total{{{P}}}[{RI}]))', "{{reason}} ({{decided_by}})")],
        unit="reqps", description="deadline / overload: decided by the rendezvous; proxy-deadline: no result "
        "reached the proxy by the deadline (its own guard answered); proxy-unavailable: Kafka refused the request.")
    d.panel("timeseries", "Requests by HTTP status", [
        (f'sum by (status) (rate(rdv_proxy_requests_total{{{P}}}[{RI}]))', "{{status}}")], w=8, unit="reqps")
    d.panel("timeseries", "In flight at the proxy, pending at the rendezvous", [
        (f'sum(rdv_proxy_in_flight_requests{{{P}}})', "in flight (proxy)"),
        (f'sum(rdv_rendezvous_pending_requests{{{P}}})', "pending (rendezvous)")], w=8, unit="none")
    d.panel("timeseries", "Refused under load (503)", [
        (f'sum by (reason) (rate(rdv_proxy_refused_total{{{P}}}[{RI}]))', "{{reason}}"),
        (f'sum(rate(rdv_proxy_requests_total{{{P}}}[{RI}]))', "all requests")], w=8, unit="reqps",
        description="Requests the proxy did not take in: concurrency-limit (the adaptive limit on requests in "
        "flight was reached) or event-loop-lag (the proxy's thread fell behind for a whole interval).")
    d.panel("timeseries", "Admission limit and requests in flight", [
        (f'max(rdv_proxy_admission_limit_requests{{{P}}})', "limit"),
        (f'sum(rdv_proxy_in_flight_requests{{{P}}})', "in flight")], w=8, unit="none",
        description="The adaptive concurrency limit (windowed AIMD by default) against the admitted requests "
        "not yet answered.")
    d.panel("timeseries", "Deadline guard: answers and lateness", [
        (f'sum(rate(rdv_proxy_guard_lateness_seconds_count{{{P}}}[{RI}]))', "guard answers /s"),
        (f'max(rdv_proxy_guard_lateness_seconds_max{{{P}}})', "latest guard, slowest (s)"),
        ('max(rdv_proxy_event_loop_lag_seconds)', "event-loop lag (s)"),
        ('max(rdv_proxy_guard_margin_seconds)', "guard margin now (s)"),
        (f'sum(rate(rdv_proxy_answer_lateness_seconds_count{{{P}}}[{RI}])) - '
         f'sum(rate(rdv_proxy_answer_lateness_seconds_bucket{{{P},le="0.005"}}[{RI}]))',
         "answers > deadline + 5 ms /s")], w=8, unit="short",
        description="How often the proxy's own guard answered with the default, how late past its due time "
        "(deadline less the margin) the slowest recent one fired, how late the event loop runs now, how long "
        "before the deadline the guard fires now (the margin, plus the loop's recent delay), and how many answers "
        "went out more than 5 ms after their deadline (the promise: none).")
    d.panel("timeseries", "Late scores by model", [
        (f'sum by (model, version) (rate(rdv_rendezvous_late_scores_total{{{P}}}[{RI}]))', "{{model}}@{{version}}")], w=8, unit="cps",
        description="Scores that reached the rendezvous after their request was decided.")
    d.write("sla.json")


def models():
    d = Dashboard("rdv-models", "Rendezvous / Models",
                  "Each runner: latency (ONNX time and receipt to score), throughput, errors, requests skipped "
                  "as expired, consumer lag, batch sizes and device.", [])
    d.panel("table", "Runners", [(f'max by (model, version, role, device, runner) (rdv_runner_info{{{P}}})', "",
                                  {"format": "table", "instant": True, "range": False})], w=24, h=6,
            options={"showHeader": True})
    d.panel("timeseries", "ONNX time per batch, p99 (HdrHistogram, last minute)", [
        (f'max by (model, version) (rdv_runner_inference_window_seconds{{{P},quantile="0.99"}})', "{{model}}@{{version}}")], unit="s")
    d.panel("timeseries", "Receipt to score, p99 (HdrHistogram, last minute)", [
        (f'max by (model, version) (rdv_runner_score_latency_window_seconds{{{P},quantile="0.99"}})', "{{model}}@{{version}}")],
        unit="s")
    d.panel("timeseries", "Receipt to score at the rendezvous, p50 and p99", [
        (q(0.5, "rdv_rendezvous_score_arrival_seconds", "model", P), "{{model}} p50"),
        (q(0.99, "rdv_rendezvous_score_arrival_seconds", "model", P), "{{model}} p99"),
        (f'max by (tier) (rdv_rendezvous_schedule_tier_end_seconds{{{P}}})', "tier {{tier}} ends")], unit="s",
        overrides=DEADLINE_OVERRIDE)
    d.panel("timeseries", "Scored per second", [
        (f'sum by (model, version) (rate(rdv_runner_scored_total{{{P}}}[{RI}]))', "{{model}}@{{version}}")], unit="reqps")
    d.panel("timeseries", "Errors", [
        (f'sum by (model, version, kind) (rate(rdv_runner_errors_total{{{P}}}[{RI}]))', "{{model}}@{{version}} {{kind}}")], w=8,
        unit="reqps")
    d.panel("timeseries", "Skipped as expired", [
        (f'sum by (model, version) (rate(rdv_runner_skipped_expired_total{{{P}}}[{RI}]))', "{{model}}@{{version}}")], w=8, unit="reqps")
    d.panel("timeseries", "Consumer lag", [
        (f'sum by (model, version) (rdv_runner_consumer_lag_records{{{P}}})', "{{model}}@{{version}}")], w=8, unit="none")
    d.panel("timeseries", "Mean batch size", [
        (ratio(f'sum by (model, version) (rate(rdv_runner_batch_size_sum{{{P}}}[{RI}]))',
               f'sum by (model, version) (rate(rdv_runner_batch_size_count{{{P}}}[{RI}]))'), "{{model}}@{{version}}")], w=8,
        unit="none")
    d.panel("piechart", "Runners by device", [(f'count by (device) (rdv_runner_info{{{P}}})', "{{device}}")], w=8)
    d.panel("timeseries", "Kafka fetch latency of runners (avg)", [
        ('max by (client_id) (kafka_consumer_fetch_manager_fetch_latency_avg{component="runner"})', "{{client_id}}")],
        w=8, unit="ms")
    loops = f'loop=~"(runner|decoy|monitor)-$problem(-.+)?"'
    d.panel("timeseries", "Consumer loops: records not read yet (decoy, monitor, runners)", [
        (f'max by (loop) (rdv_consumer_lag_records{{{loops}}})', "{{loop}}")], unit="none",
        description="The decoy's loop (decoy-<problem>) raises RendezvousDecoyLagging above 10,000 records for "
        "10 minutes (dashboards/alerts.yml).")
    d.panel("timeseries", "Consumer loops reading (1) or not (0)", [
        (f'min by (loop) (rdv_consumer_ready{{{loops}}})', "{{loop}}")], unit="none", field={"min": 0, "max": 1},
        description="0 before a loop has its partitions, while it retries a batch and after it failed; the "
        "decoy's at 0 for 5 minutes raises RendezvousDecoyNotReading.")
    d.row("Process")
    d.panel("timeseries", "JVM heap used", [('sum(jvm_memory_used_bytes{area="heap"})', "heap")], w=8,
            unit="bytes")
    d.panel("timeseries", "CPU", [("max(process_cpu_usage)", "process"), ("max(system_cpu_usage)", "system")],
            w=8, unit="percentunit")
    d.panel("timeseries", "Live threads", [("sum(jvm_threads_live_threads)", "threads")], w=8, unit="none")
    d.write("models.json")


def scores():
    canary = query_var("canary", "Canary", 'label_values(rdv_model_score_count{problem="$problem", role="canary"}, model)',
                       "bc-canary")
    model = query_var("model", "Model", 'label_values(rdv_model_score_count{problem="$problem", role="serving"}, model)',
                      "bc-mlp")
    d = Dashboard("rdv-scores", "Rendezvous / Score distributions",
                  "Each model's score distribution, overlaid with the canary's; a heatmap over time.",
                  [model, canary])
    for quantile, label in ((0.5, "median"), (0.9, "p90")):
        d.panel("timeseries", f"Score {label} of every model (dashed: canary)", [
            (q(quantile, "rdv_model_score", "model", P), "{{model}}@{{version}}")], unit="none", field={"min": 0, "max": 1},
            overrides=CANARY_OVERRIDE)
    d.panel("timeseries", "Mean score of every model (dashed: canary)", [
        (ratio(f'sum by (model, version) (rate(rdv_model_score_sum{{{P}}}[{RI}]))',
               f'sum by (model, version) (rate(rdv_model_score_count{{{P}}}[{RI}]))'), "{{model}}@{{version}}")], unit="none",
        field={"min": 0, "max": 1}, overrides=CANARY_OVERRIDE)
    d.panel("timeseries", "$model against $canary: p10, p50, p90", [
        (q(0.1, "rdv_model_score", "model", f'{P},model=~"$model|$canary"'), "{{model}} p10"),
        (q(0.5, "rdv_model_score", "model", f'{P},model=~"$model|$canary"'), "{{model}} p50"),
        (q(0.9, "rdv_model_score", "model", f'{P},model=~"$model|$canary"'), "{{model}} p90")], unit="none",
        field={"min": 0, "max": 1}, overrides=CANARY_OVERRIDE)
    # Grafana's idiom for a Prometheus histogram as bars: a bar gauge over an instant query in heatmap format,
    # which turns the cumulative le buckets into one count per bucket.
    for who, colour in (("$model", "orange"), ("$canary", "text")):
        d.panel("bargauge", f"Distribution of {who} over the time range", [
            (f'sum by (le) (increase(rdv_model_score_bucket{{{P},model="{who}"}}[$__range]))', "{{le}}",
             {"format": "heatmap", "instant": True, "range": False})], w=12, unit="none",
            description="Scores per bucket of 0.05 (upper bound shown) over the dashboard's time range.",
            options={"orientation": "vertical", "displayMode": "basic", "showUnfilled": False,
                     "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}},
            field={"color": {"mode": "fixed", "fixedColor": colour}, "min": 0})
    d.panel("heatmap", "Heatmap of $model's scores over time", [
        (f'sum by (le) (increase(rdv_model_score_bucket{{{P},model="$model"}}[{RI}]))', "{{le}}",
         {"format": "heatmap"})], options={"calculate": False, "yAxis": {"unit": "none"},
                                          "cellGap": 1, "color": {"scheme": "Oranges", "mode": "scheme"}})
    d.panel("heatmap", "Heatmap of $canary's scores over time", [
        (f'sum by (le) (increase(rdv_model_score_bucket{{{P},model="$canary"}}[{RI}]))', "{{le}}",
         {"format": "heatmap"})], options={"calculate": False, "yAxis": {"unit": "none"},
                                          "cellGap": 1, "color": {"scheme": "Greys", "mode": "scheme"}})
    d.panel("timeseries", "Scores recorded per second", [
        (f'sum by (model, version) (rate(rdv_model_score_count{{{P}}}[{RI}]))', "{{model}}@{{version}}")], w=24, unit="cps",
        overrides=CANARY_OVERRIDE)
    d.write("scores.json")


def drift():
    canary = query_var("canary", "Canary", 'label_values(rdv_model_score_count{problem="$problem", role="canary"}, model)',
                       "bc-canary")
    d = Dashboard("rdv-drift", "Rendezvous / Drift and canary agreement",
                  "Series of the score monitor (canary module): each model's G statistic against its own reference "
                  "window with the alarm threshold (chi-square, p < 1e-4), and how each model agrees with the canary "
                  "on the same requests.", [canary])
    d.panel("timeseries", "Drift statistic G by model, against the alarm threshold", [
        (f'max by (model, version) (rdv_monitor_drift_statistic{{{P}}})', "{{model}}@{{version}}"),
        (f'max(rdv_monitor_drift_threshold{{{P}}})', "alarm threshold")], unit="none")
    d.panel("timeseries", "Drift p-value by model", [
        (f'min by (model, version) (rdv_monitor_drift_p_value{{{P}}})', "{{model}}@{{version}}")], unit="none",
        field={"custom": {"scaleDistribution": {"type": "log", "log": 10}}})
    d.panel("timeseries", "Drift alarms raised (windows over the threshold)", [
        (f'sum by (model, version) (increase(rdv_monitor_drift_alarms_total{{{P}}}[{RI}]))', "{{model}}@{{version}}")], unit="none")
    d.panel("timeseries", "Rank agreement with $canary on the same requests (Spearman)", [
        (f'min by (model, version) (rdv_monitor_canary_rank_correlation{{{P}}})', "{{model}}@{{version}}")], unit="none",
        field={"min": -1, "max": 1})
    d.panel("timeseries", "Mean score difference from $canary on the same requests", [
        (f'avg by (model, version) (rdv_monitor_canary_mean_difference{{{P}}})', "{{model}}@{{version}}")], unit="none")
    d.panel("timeseries", "Distribution distance from $canary (G)", [
        (f'max by (model, version) (rdv_monitor_canary_distribution_statistic{{{P}}})', "{{model}}@{{version}}")], unit="none")
    d.panel("timeseries", "Drift alarm in force (1) by model", [
        (f'max by (model, version) (rdv_monitor_drift_alarm{{{P}}})', "{{model}}@{{version}}")], w=24, h=6, unit="none",
        field={"min": 0, "max": 1}, overrides=CANARY_OVERRIDE,
        description="1 while a model's last window drifted. Held for 5 minutes it raises RendezvousModelScoreDrift, "
        "or RendezvousInputShift for the canary; a rank correlation with the canary below 0.5 for 15 minutes raises "
        "RendezvousModelDisagreesWithCanary (dashboards/alerts.yml).")
    d.write("drift.json")


def rollin():
    champion = query_var("champion", "Champion",
                         'label_values(rdv_runner_info{problem="$problem", role="serving"}, model)', "bc-mlp")
    model = query_var("model", "New model", 'label_values(rdv_runner_info{problem="$problem", role="serving"}, model)',
                      "bc-logreg")
    canary = query_var("canary", "Canary", 'label_values(rdv_runner_info{problem="$problem", role="canary"}, model)',
                       "bc-canary")
    three = f'{P},model=~"$model|$champion|$canary"'
    d = Dashboard("rdv-rollin", "Rendezvous / Roll-in",
                  "A new model against the champion and the canary. Set the time range to start at the new model's "
                  "start (the first panel says how long ago that was) to align the comparison to it.",
                  [model, champion, canary])
    d.panel("stat", "$model running for", [
        (f'time() - max(rdv_runner_start_time_seconds{{{P},model="$model"}})', "running for")], w=6, h=5, unit="s")
    d.panel("stat", "Answers given by $model", [(ratio(
        f'sum(rate(rdv_proxy_answers_total{{{P},answered_by="$model"}}[{RI}])) or vector(0)',
        f'sum(rate(rdv_proxy_answers_total{{{P}}}[{RI}]))'), "share")], w=6, h=5, unit="percentunit", field=PERCENT,
        description="Zero until the schedule accepts the new model's scores (a model that never answered has no "
        "series of its own, hence the vector(0)).")
    d.panel("stat", "$model errors and skipped per second", [
        (f'sum(rate(rdv_runner_errors_total{{{P},model="$model"}}[{RI}]))', "errors"),
        (f'sum(rate(rdv_runner_skipped_expired_total{{{P},model="$model"}}[{RI}]))', "skipped")], w=6, h=5,
        unit="reqps")
    d.panel("stat", "$model version", [(f'max by (version) (rdv_runner_info{{{P},model="$model"}})', "v{{version}}")],
            w=6, h=5, unit="none", options={"textMode": "name"})
    d.panel("timeseries", "Score arrival at the rendezvous, p99: $model, $champion, $canary", [
        (q(0.99, "rdv_rendezvous_score_arrival_seconds", "model", three), "{{model}}@{{version}}"),
        (f'max by (tier) (rdv_rendezvous_schedule_tier_end_seconds{{{P}}})', "tier {{tier}} ends")], unit="s",
        overrides=DEADLINE_OVERRIDE + CANARY_OVERRIDE)
    d.panel("timeseries", "Late scores: $model, $champion, $canary", [
        (f'sum by (model, version) (rate(rdv_rendezvous_late_scores_total{{{three}}}[{RI}]))', "{{model}}@{{version}}")], unit="cps")
    d.panel("timeseries", "Median and p90 score: $model, $champion, $canary", [
        (q(0.5, "rdv_model_score", "model", three), "{{model}} p50"),
        (q(0.9, "rdv_model_score", "model", three), "{{model}} p90")], unit="none", field={"min": 0, "max": 1},
        overrides=CANARY_OVERRIDE)
    d.panel("timeseries", "Mean score: $model, $champion, $canary", [
        (ratio(f'sum by (model, version) (rate(rdv_model_score_sum{{{three}}}[{RI}]))',
               f'sum by (model, version) (rate(rdv_model_score_count{{{three}}}[{RI}]))'), "{{model}}@{{version}}")], unit="none",
        field={"min": 0, "max": 1}, overrides=CANARY_OVERRIDE)
    d.write("rollin.json")


if __name__ == "__main__":
    sla()
    models()
    scores()
    drift()
    rollin()

#!/usr/bin/env python3
# Generates meshgate-dashboard.json (run from anywhere: python3 configs/grafana/gen-dashboard.py).
# Edit panels here, not in the JSON, so every query keeps the same $job/$instance selector.
import json
DS = {"type": "prometheus", "uid": "${datasource}"}
SEL = 'job=~"$job",instance=~"$instance"'
panels = []
pid = [0]
y = [0]

def nid():
    pid[0] += 1
    return pid[0]

def row(title, collapsed=False):
    panels.append({"type": "row", "id": nid(), "title": title, "collapsed": collapsed,
                   "gridPos": {"h": 1, "w": 24, "x": 0, "y": y[0]}, "panels": []})
    y[0] += 1

x = [0]
def panel(kind, title, targets, unit="short", w=8, h=7, desc="", extra=None):
    if x[0] + w > 24:
        x[0] = 0
        y[0] += h
    p = {"type": kind, "id": nid(), "title": title, "description": desc, "datasource": DS,
         "gridPos": {"h": h, "w": w, "x": x[0], "y": y[0]},
         "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
         "targets": [{"datasource": DS, "refId": chr(65 + i), "expr": e, "legendFormat": l}
                     for i, (e, l) in enumerate(targets)]}
    if kind == "timeseries":
        p["options"] = {"legend": {"displayMode": "table", "placement": "bottom", "calcs": ["lastNotNull", "max"]},
                        "tooltip": {"mode": "multi"}}
    if kind == "stat":
        p["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                        "colorMode": "value", "graphMode": "area"}
    if extra:
        p.update(extra)
    panels.append(p)
    x[0] += w

def endrow(h=7):
    x[0] = 0
    y[0] += h

R = "[$__rate_interval]"
row("Overview")
panel("stat", "Up", [(f'up{{{SEL}}}', "{{instance}}")], w=3, h=4, desc="Prometheus could scrape meshgate.")
panel("stat", "Tailnet up", [(f'tailscale_up{{{SEL}}}', "{{instance}}")], w=3, h=4)
panel("stat", "Data path running", [(f'tailscale_backend_running{{{SEL}}}', "{{instance}}")], w=3, h=4)
panel("stat", "Peers", [(f'sum(tailscale_peers{{{SEL}}})', "peers")], w=3, h=4)
panel("stat", "Peers direct / relay", [(f'sum(tailscale_peers_direct{{{SEL}}})', "direct"),
                                       (f'sum(tailscale_peers_relay{{{SEL}}})', "relay")], w=4, h=4)
panel("stat", "Health warnings", [(f'sum(meshgate_health_messages{{{SEL}}})', "warnings")], w=4, h=4,
      desc="`meshgate status` lists them.")
panel("stat", "Under load", [(f'max(meshgate_under_load{{{SEL}}})', "under load")], w=4, h=4,
      desc="1 while handshakes get cookie replies.")
endrow(4)
panel("timeseries", "Peers by state", [(f'sum by (state) (meshgate_peers{{{SEL}}})', "{{state}}")], w=12)
panel("table", "Build", [(f'meshgate_build_info{{{SEL}}}', "{{version}}")], w=12,
      extra={"targets": [{"datasource": DS, "refId": "A", "expr": f'meshgate_build_info{{{SEL}}}', "format": "table", "instant": True}]})
endrow()

row("Traffic by path")
panel("timeseries", "Inbound bytes/s by path", [(f'sum by (path) (rate(meshgate_inbound_bytes_total{{{SEL}}}{R}))', "{{path}}")], unit="Bps", w=12)
panel("timeseries", "Outbound bytes/s by path", [(f'sum by (path) (rate(meshgate_outbound_bytes_total{{{SEL}}}{R}))', "{{path}}")], unit="Bps", w=12)
endrow()
panel("timeseries", "Inbound packets/s by path", [(f'sum by (path) (rate(meshgate_inbound_packets_total{{{SEL}}}{R}))', "{{path}}")], unit="pps", w=12)
panel("timeseries", "Outbound packets/s by path", [(f'sum by (path) (rate(meshgate_outbound_packets_total{{{SEL}}}{R}))', "{{path}}")], unit="pps", w=12)
endrow()
panel("timeseries", "NIC frames/s by queue", [(f'sum by (queue) (rate(meshgate_nic_received_packets_total{{{SEL}}}{R}))', "rx q{{queue}}"),
                                             (f'sum by (queue) (rate(meshgate_nic_transmitted_packets_total{{{SEL}}}{R}))', "tx q{{queue}}")], unit="pps", w=12)
panel("timeseries", "Local delivery and keepalives", [(f'sum(rate(meshgate_local_delivered_packets_total{{{SEL}}}{R}))', "to TUN"),
                                                      (f'sum(rate(meshgate_keepalives_received_total{{{SEL}}}{R}))', "keepalives")], unit="pps", w=12)
endrow()

row("Drops by reason")
panel("timeseries", "Drops/s by reason", [(f'sum by (reason) (rate(meshgate_inbound_dropped_packets_total{{{SEL}}}{R})) > 0', "{{reason}}")], unit="pps", w=16,
      desc="One list in counters.h drives these reasons and the code.")
panel("bargauge", "Drops in range by reason", [(f'sort_desc(sum by (reason) (increase(meshgate_inbound_dropped_packets_total{{{SEL}}}[$__range])))', "{{reason}}")], w=8)
endrow()

row("Crypto & handshakes")
panel("heatmap", "Crypto batch size", [(f'sum by (le) (increase(meshgate_crypto_batch_size_bucket{{{SEL}}}[$__interval]))', "{{le}}")], w=12,
      desc="Messages per AEAD batch: bigger batches = fewer key setups per packet.",
      extra={"options": {"calculate": False, "yAxis": {"unit": "short"}}})
panel("timeseries", "Mean batch size", [(f'sum(rate(meshgate_crypto_batch_size_sum{{{SEL}}}{R})) / sum(rate(meshgate_crypto_batch_size_count{{{SEL}}}{R}))', "mean")], w=12)
endrow()
panel("timeseries", "Handshake messages/s", [(f'sum by (message, direction) (rate(meshgate_handshakes_total{{{SEL}}}{R}))', "{{message}} {{direction}}"),
                                             (f'sum(rate(meshgate_handshake_dropped_total{{{SEL}}}{R}))', "dropped")], unit="pps", w=12)
panel("timeseries", "Under load", [(f'meshgate_under_load{{{SEL}}}', "{{instance}}")], w=12)
endrow()

row("AF_XDP saturation")
panel("timeseries", "Worker busy ratio by queue", [(f'1 - sum by (queue) (rate(meshgate_worker_idle_loops_total{{{SEL}}}{R})) / sum by (queue) (rate(meshgate_worker_loops_total{{{SEL}}}{R}))', "q{{queue}}")], unit="percentunit", w=12)
panel("timeseries", "RX ring full / kernel drops by queue", [(f'sum by (queue) (rate(meshgate_xsk_rx_ring_full_total{{{SEL}}}{R}))', "ring full q{{queue}}"),
                                                            (f'sum by (queue) (rate(meshgate_xsk_rx_dropped_total{{{SEL}}}{R}))', "dropped q{{queue}}")], unit="pps", w=12)
endrow()
panel("timeseries", "Fill ring empty / TX ring empty", [(f'sum by (queue) (rate(meshgate_xsk_rx_fill_ring_empty_descs_total{{{SEL}}}{R}))', "fill empty q{{queue}}"),
                                                        (f'sum by (queue) (rate(meshgate_xsk_tx_ring_empty_descs_total{{{SEL}}}{R}))', "tx empty q{{queue}}")], w=8)
panel("timeseries", "Invalid descriptors", [(f'sum by (queue) (rate(meshgate_xsk_rx_invalid_descs_total{{{SEL}}}{R}))', "rx q{{queue}}"),
                                            (f'sum by (queue) (rate(meshgate_xsk_tx_invalid_descs_total{{{SEL}}}{R}))', "tx q{{queue}}")], w=8)
panel("timeseries", "XDP verdicts", [(f'sum by (action) (rate(meshgate_xdp_steered_packets_total{{{SEL}}}{R}))', "{{action}}")], unit="pps", w=8)
endrow()

row("Control plane")
panel("stat", "Control server connected", [(f'meshgate_control_connected{{{SEL}}}', "{{instance}}")], w=8, h=5)
panel("stat", "Advertised routes", [(f'meshgate_advertised_routes{{{SEL}}}', "{{instance}}")], w=8, h=5)
panel("stat", "Handshakes punted/s", [(f'sum(rate(meshgate_punted_packets_total{{{SEL}}}{R}))', "punted")], unit="pps", w=8, h=5)
endrow(5)

# Per-peer row: only with the opt-in meshgate_peers job (?peers=1); dashboard 12177's names.
panels.append({"type": "row", "id": nid(), "title": "Per peer (opt-in: scrape with ?peers=1)", "collapsed": True,
               "gridPos": {"h": 1, "w": 24, "x": 0, "y": y[0]}, "panels": [
    {"type": "timeseries", "id": nid(), "title": "Receive bytes/s by peer", "datasource": DS,
     "gridPos": {"h": 8, "w": 12, "x": 0, "y": y[0] + 1}, "fieldConfig": {"defaults": {"unit": "Bps"}, "overrides": []},
     "targets": [{"datasource": DS, "refId": "A", "legendFormat": "{{public_key}}",
                  "expr": 'sum by (public_key) (rate(wireguard_peer_receive_bytes_total{instance=~"$instance"}[$__rate_interval]))'}]},
    {"type": "timeseries", "id": nid(), "title": "Transmit bytes/s by peer", "datasource": DS,
     "gridPos": {"h": 8, "w": 12, "x": 12, "y": y[0] + 1}, "fieldConfig": {"defaults": {"unit": "Bps"}, "overrides": []},
     "targets": [{"datasource": DS, "refId": "A", "legendFormat": "{{public_key}}",
                  "expr": 'sum by (public_key) (rate(wireguard_peer_transmit_bytes_total{instance=~"$instance"}[$__rate_interval]))'}]},
    {"type": "table", "id": nid(), "title": "Seconds since last handshake", "datasource": DS,
     "gridPos": {"h": 8, "w": 24, "x": 0, "y": y[0] + 9}, "fieldConfig": {"defaults": {"unit": "s"}, "overrides": []},
     "targets": [{"datasource": DS, "refId": "A", "format": "table", "instant": True,
                  "expr": 'time() - (wireguard_peer_last_handshake_seconds{instance=~"$instance"} > 0)'}]},
]})

dash = {
    "__inputs": [{"name": "DS_PROMETHEUS", "label": "Prometheus", "type": "datasource", "pluginId": "prometheus", "pluginName": "Prometheus"}],
    "__requires": [{"type": "grafana", "id": "grafana", "name": "Grafana", "version": "10.0.0"},
                   {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"}],
    "title": "meshgate", "uid": "meshgate", "description": "meshgate subnet router: overview, traffic by path, drops by reason, crypto batching, AF_XDP saturation, control plane.",
    "tags": ["meshgate", "wireguard", "tailscale"], "timezone": "", "schemaVersion": 39, "version": 1,
    "editable": True, "graphTooltip": 1, "refresh": "30s", "time": {"from": "now-6h", "to": "now"},
    "templating": {"list": [
        {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
         "current": {}, "hide": 0, "refresh": 1, "regex": "", "includeAll": False, "multi": False},
        {"name": "job", "label": "Job", "type": "query", "datasource": DS, "query": {"query": "label_values(meshgate_build_info, job)", "refId": "job"},
         "definition": "label_values(meshgate_build_info, job)", "refresh": 2, "includeAll": True, "multi": True, "current": {}, "allValue": ".+", "hide": 0, "sort": 1},
        {"name": "instance", "label": "Instance", "type": "query", "datasource": DS,
         "query": {"query": 'label_values(meshgate_build_info{job=~"$job"}, instance)', "refId": "instance"},
         "definition": 'label_values(meshgate_build_info{job=~"$job"}, instance)', "refresh": 2, "includeAll": True, "multi": True, "current": {}, "allValue": ".+", "hide": 0, "sort": 1},
    ]},
    "annotations": {"list": []},
    "panels": panels,
}
import os
json.dump(dash, open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "meshgate-dashboard.json"), "w"), indent=2)
print(len(panels), "top-level panels")

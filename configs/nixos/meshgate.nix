# NixOS module: services.meshgate, a WireGuard/Tailscale subnet router with an AF_XDP fast path.
#
# Options mirror what operators already set for services.tailscale (loginServer = the
# --login-server of extraUpFlags, advertiseRoutes, exitNode, acceptRoutes, authKeyFile,
# openFirewall for UDP 41641) plus meshgate's own (interface, queues, metrics address).
#
#   imports = [ ./meshgate.nix ];
#   services.meshgate = {
#     enable = true;
#     loginServer = "https://headscale.example.com";
#     authKeyFile = "/run/secrets/meshgate-authkey";
#     interface = "enp1s0";            # the passthrough NIC
#     queues = 2;
#     advertiseRoutes = [ "192.168.8.0/24" ];
#     openFirewall = true;
#   };
{ config, lib, pkgs, ... }:

let
  cfg = config.services.meshgate;
  inherit (lib) mkEnableOption mkOption mkIf mkOverride types optionalString concatStringsSep;

  boolStr = b: if b then "true" else "false";
  listStr = l: concatStringsSep ", " l;

  # The [Interface] section of meshgate.conf; extraSettings last so
  # it can add keys the module does not know yet.
  configFile = pkgs.writeText "meshgate.conf" (''
    [Interface]
    Name = ${cfg.name}
    PrivateKeyFile = ${cfg.privateKeyFile}
    ListenPort = ${toString cfg.port}
    Device = ${cfg.interface}
    Backend = xdp
    Queues = ${toString cfg.queues}
    SNAT = ${boolStr cfg.snat}
    AdvertiseExitNode = ${boolStr cfg.exitNode}
    AcceptRoutes = ${boolStr cfg.acceptRoutes}
    StateDir = /var/lib/meshgate
    MetricsListen = ${if cfg.metrics.enable then cfg.metrics.listenAddress else "off"}
  ''
  + optionalString (cfg.user != null) "User = ${cfg.user}\n"
  + optionalString (cfg.addresses != [ ]) "Address = ${listStr cfg.addresses}\n"
  + optionalString (cfg.advertiseRoutes != [ ]) "AdvertiseRoutes = ${listStr cfg.advertiseRoutes}\n"
  + optionalString (cfg.loginServer != null) "LoginServer = ${cfg.loginServer}\n"
  + optionalString (cfg.authKeyFile != null) "AuthKeyFile = ${cfg.authKeyFile}\n"
  + lib.concatStrings (lib.mapAttrsToList (k: v: "${k} = ${toString v}\n") cfg.extraSettings)
  + optionalString (cfg.extraConfig != "") "\n${cfg.extraConfig}\n");

  # Setup needs these (README "Least privilege"); with `user` set meshgate then switches to that
  # user itself and keeps CAP_NET_ADMIN alone. SETUID/SETGID are for that switch.
  owner = if cfg.user != null then cfg.user else "root";

  # A key on first start; SIGHUP re-reads it as the unprivileged user, so it is the user's.
  keygen = pkgs.writeShellScript "meshgate-keygen" ''
    if [ ! -s ${cfg.privateKeyFile} ]; then
      umask 077
      ${pkgs.wireguard-tools}/bin/wg genkey > ${cfg.privateKeyFile}
    fi
    chown ${owner}: ${cfg.privateKeyFile}
  '';

  caps = [ "CAP_NET_ADMIN" "CAP_NET_RAW" "CAP_BPF" "CAP_IPC_LOCK" ]
    ++ lib.optionals (cfg.user != null) [ "CAP_SETUID" "CAP_SETGID" ];
in
{
  options.services.meshgate = {
    enable = mkEnableOption "meshgate, a WireGuard/Tailscale subnet router over AF_XDP";

    package = mkOption {
      type = types.package;
      description = "The meshgate package (provides bin/meshgate and the XDP object).";
    };

    name = mkOption {
      type = types.str;
      default = "meshgate0";
      description = "Device name: UAPI socket /run/wireguard/NAME.sock (`wg show NAME`) and TUN device.";
    };

    interface = mkOption {
      type = types.str;
      example = "enp1s0";
      description = "The NIC meshgate attaches its XDP program to (one-armed, on the LAN).";
    };

    user = mkOption {
      type = types.nullOr types.str;
      default = "meshgate";
      description = ''
        Unprivileged user meshgate switches to after setup (`User =` in meshgate.conf), keeping
        only CAP_NET_ADMIN. The module creates it when it is "meshgate". null: stay root.
        The switch is meshgate's own, not systemd's User=: liburcu's helper threads start during
        setup and block signals, so only a uid change from root reaches every thread.
      '';
    };

    queues = mkOption {
      type = types.ints.between 1 64;
      default = 1;
      description = "Worker threads, one per NIC queue (see `ethtool -l`).";
    };

    port = mkOption {
      type = types.port;
      default = 41641;
      description = "UDP port for WireGuard (tailscale's default).";
    };

    openFirewall = mkOption {
      type = types.bool;
      default = false;
      description = "Open the WireGuard UDP port in the firewall.";
    };

    privateKeyFile = mkOption {
      type = types.str;
      default = "/var/lib/meshgate/private.key";
      description = "Node private key (base64, `wg genkey`); created on first start when missing.";
    };

    addresses = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "100.64.0.5/32" "fd7a:115c:a1e0::5/128" ];
      description = "This router's tailnet addresses (with Headscale they come from the control server).";
    };

    loginServer = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "https://headscale.example.com";
      description = "Coordination server (Headscale); null = static peers from extraConfig only.";
    };

    authKeyFile = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "/run/secrets/meshgate-authkey";
      description = "File holding a Headscale pre-auth key, read at start.";
    };

    advertiseRoutes = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "192.168.8.0/24" ];
      description = "Home subnets offered to the tailnet (approve them in Headscale).";
    };

    exitNode = mkOption {
      type = types.bool;
      default = false;
      description = "Offer this router as an exit node.";
    };

    acceptRoutes = mkOption {
      type = types.bool;
      default = false;
      description = "Install subnet routes other routers advertise.";
    };

    snat = mkOption {
      type = types.bool;
      default = true;
      description = "Masquerade tailnet sources as this router on the LAN (--snat-subnet-routes).";
    };

    metrics = {
      enable = mkOption {
        type = types.bool;
        default = true;
        description = "Serve Prometheus /metrics.";
      };
      listenAddress = mkOption {
        type = types.str;
        default = "127.0.0.1:9586";
        description = "host:port for /metrics; firewall it if not on loopback.";
      };
    };

    extraSettings = mkOption {
      type = types.attrsOf (types.oneOf [ types.str types.int types.bool ]);
      default = { };
      example = { Crypto = "avx2"; MTU = 1280; };
      description = "More [Interface] keys, written as Key = value.";
    };

    extraConfig = mkOption {
      type = types.lines;
      default = "";
      description = "Appended verbatim, e.g. static [Peer] sections.";
    };
  };

  config = mkIf cfg.enable {
    environment.systemPackages = [ cfg.package ];
    environment.etc."meshgate/meshgate.conf".source = configFile;

    # As services.tailscale's useRoutingFeatures = "server" does, at the same priority.
    boot.kernel.sysctl = {
      "net.ipv4.conf.all.forwarding" = mkOverride 97 true;
      "net.ipv6.conf.all.forwarding" = mkOverride 97 true;
    };

    users.users = mkIf (cfg.user == "meshgate") {
      meshgate = {
        isSystemUser = true;
        group = "meshgate";
        home = "/var/lib/meshgate";
        description = "meshgate subnet router";
      };
    };
    users.groups = mkIf (cfg.user == "meshgate") { meshgate = { }; };

    # As configs/systemd/meshgate.tmpfiles: StateDir is the user's; /run/wireguard stays root's
    # (shared with other UAPI daemons) with an ACL entry for meshgate's socket.
    systemd.tmpfiles.rules = [
      "d /var/lib/meshgate 0700 ${owner} ${owner} -"
      "d /run/wireguard 0755 root root -"
    ] ++ lib.optional (cfg.user != null) "a+ /run/wireguard - - - - u:${cfg.user}:rwx,m::rwx";

    networking.firewall.allowedUDPPorts = mkIf cfg.openFirewall [ cfg.port ];
    # Our TUN device is ours: keep DHCP and networkd away from it.
    networking.dhcpcd.denyInterfaces = [ cfg.name ];
    systemd.network.networks."50-meshgate" = mkIf config.systemd.network.enable {
      matchConfig.Name = cfg.name;
      linkConfig.Unmanaged = true;
    };

    systemd.services.meshgate = {
      description = "meshgate subnet router (WireGuard over AF_XDP)";
      wantedBy = [ "multi-user.target" ];
      wants = [ "network-online.target" ];
      after = [ "network-online.target" ];
      path = [ pkgs.wireguard-tools ];
      restartTriggers = [ configFile ];
      # Restart in one step: an activation run over the tunnel must not cut itself off.
      stopIfChanged = false;
      startLimitIntervalSec = 0;
      environment.LIBXDP_SKIP_DISPATCHER = "1";
      serviceConfig = {
        Type = "notify";
        NotifyAccess = "main";
        # "+": the key is made and handed to the user outside the sandbox, which has neither
        # CAP_CHOWN nor the chown syscalls.
        ExecStartPre = [ "+${keygen}" "${cfg.package}/bin/meshgate check -c /etc/meshgate/meshgate.conf" ];
        ExecStart = "${cfg.package}/bin/meshgate run -c /etc/meshgate/meshgate.conf";
        ExecReload = "${pkgs.coreutils}/bin/kill -HUP $MAINPID";
        Restart = "always";
        RestartSec = "2s";
        WatchdogSec = "10s";
        TimeoutStopSec = "15s";

        CapabilityBoundingSet = caps;
        # Starts as root (within the bounding set); meshgate drops to `user` itself.
        LimitMEMLOCK = "infinity";
        NoNewPrivileges = true;

        # No RuntimeDirectory=/StateDirectory=: their chmod/chown on every start would undo the
        # tmpfiles ACL and ownership above; both paths are made by tmpfiles.
        ReadWritePaths = [ "/run/wireguard" "/var/lib/meshgate" "-/sys/fs/bpf" ];
        UMask = "0077";

        ProtectSystem = "strict";
        ProtectHome = true;
        PrivateTmp = true;
        PrivateDevices = false;
        DevicePolicy = "closed";
        DeviceAllow = [ "/dev/net/tun rw" ];
        ProtectKernelTunables = true;
        ProtectKernelModules = true;
        ProtectKernelLogs = true;
        ProtectControlGroups = true;
        ProtectClock = true;
        ProtectHostname = true;
        ProtectProc = "invisible";
        ProcSubset = "pid";
        PrivateMounts = true;
        RestrictNamespaces = true;
        RestrictRealtime = true;
        RestrictSUIDSGID = true;
        LockPersonality = true;
        MemoryDenyWriteExecute = true;
        RemoveIPC = true;
        SystemCallArchitectures = "native";
        SystemCallFilter = [ "@system-service" "bpf" "~@chown @clock @cpu-emulation @debug @module @mount @obsolete @raw-io @reboot @swap" ];
        SystemCallErrorNumber = "EPERM";
        RestrictAddressFamilies = [ "AF_UNIX" "AF_NETLINK" "AF_INET" "AF_INET6" "AF_XDP" ];
      };
    };
  };
}

# Evaluates configs/nixos/meshgate.nix without nixpkgs (not available on the test machines): the
# few lib and pkgs functions the module uses are given here with their nixpkgs meaning, options
# take their defaults, and the result is what the module would make of a test configuration:
#   nix-instantiate --eval --strict --json tests/nixos/eval.nix --arg settings '{ ... }' -A conf
# conf: the text of meshgate.conf; unit: the service's serviceConfig; tmpfiles, users, groups.
{ module ? ../../configs/nixos/meshgate.nix, settings ? { } }:
let
  b = builtins;
  # mkIf/mkOverride as plain values: the evaluation keeps the content when the condition holds.
  mkIf = cond: content: { _if = true; inherit cond content; };
  force = v: if b.isAttrs v && v ? _if then (if v.cond then force v.content else null)
             else if b.isAttrs v && v ? _override then v.content else v;
  lib = rec {
    mkOption = o: o // { _option = true; };
    mkEnableOption = d: { _option = true; default = false; description = d; };
    inherit mkIf;
    mkOverride = p: content: { _override = p; inherit content; };
    optionalString = c: s: if c then s else "";
    optional = c: x: if c then [ x ] else [ ];
    optionals = c: l: if c then l else [ ];
    concatStringsSep = b.concatStringsSep;
    concatStrings = b.concatStringsSep "";
    mapAttrsToList = f: s: map (k: f k s.${k}) (b.attrNames s);
    types = let t = name: { inherit name; }; in {
      str = t "str"; bool = t "bool"; int = t "int"; port = t "port"; package = t "package";
      lines = t "lines"; listOf = t; nullOr = t; attrsOf = t; oneOf = t;
      ints.between = lo: hi: t "int";
    };
  };
  pkgs = {
    writeText = name: text: text;
    writeShellScript = name: text: "/nix/store/script-${name}";
    wireguard-tools = "/nix/store/wireguard-tools";
    coreutils = "/nix/store/coreutils";
  };
  # Option defaults, nested (metrics.enable), overlaid with the test's settings.
  defaults = opts: b.mapAttrs (n: o: if o ? _option then (o.default or null) else defaults o) opts;
  overlay = d: s: d // b.mapAttrs (n: v: if b.isAttrs v && b.isAttrs (d.${n} or null) then overlay d.${n} v else v) s;
  cfg = overlay (defaults mod.options.services.meshgate) ({ package = "/nix/store/meshgate"; } // settings);
  config = { services.meshgate = cfg; systemd.network.enable = false; };
  mod = import module { inherit config lib pkgs; };
  out = force mod.config;
  svc = out.systemd.services.meshgate;
in {
  conf = out.environment.etc."meshgate/meshgate.conf".source;
  unit = svc.serviceConfig;
  tmpfiles = out.systemd.tmpfiles.rules;
  users = force out.users.users;
  groups = force out.users.groups;
}

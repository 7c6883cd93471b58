#!/usr/bin/env python3
"""Helpers for .ci/image-check: reads the Dockerfile, .dockerignore and docker-compose.yml the way
Docker would, without Docker.

  image_check.py context DEST    copy what the build stage COPYs into DEST/rootfs (honouring
                                 .dockerignore); print the build's working folder and cargo args
  image_check.py compose         structural checks of docker-compose.yml against the Dockerfile,
                                 .env.example and the source
  image_check.py runtime-env     the runtime stage's environment (image ENV, then the portal
                                 service's compose environment with its defaults), one NAME=value
                                 per line, then the CMD arguments as CMD<TAB>arg lines

Everything is read from the repository root (the current folder). A problem is printed as
"image check: ..." on stderr with exit status 1.
"""

import json
import os
import posixpath
import re
import shlex
import shutil
import sys

ROOT = os.getcwd()


def fail(msg):
    print(f"image check: {msg}", file=sys.stderr)
    sys.exit(1)


# --- Dockerfile ----------------------------------------------------------------------------


def dockerfile_instructions(path="Dockerfile"):
    """(keyword, rest) pairs, continuation lines joined and comments dropped, as Docker reads them."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        fail(f"{path} not found")
    out, buf = [], ""
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("#"):
            continue  # comments (and parser directives) may sit between continuation lines
        if not buf and not stripped:
            continue
        if stripped.endswith("\\"):
            buf += stripped[:-1] + " "
            continue
        buf += stripped
        if buf.strip():
            kw, _, rest = buf.strip().partition(" ")
            out.append((kw.upper(), rest.strip()))
        buf = ""
    if buf.strip():
        kw, _, rest = buf.strip().partition(" ")
        out.append((kw.upper(), rest.strip()))
    if any("<<" in rest for kw, rest in out if kw in ("RUN", "COPY", "ADD")):
        fail("Dockerfile heredocs (<<EOF) are not understood by this check; extend .ci/image_check.py")
    return out


def stages():
    """Build stages in order: dicts with name, base, and the instructions after FROM."""
    result = []
    for kw, rest in dockerfile_instructions():
        if kw == "FROM":
            words = [w for w in rest.split() if not w.startswith("--")]
            name = None
            if len(words) >= 3 and words[1].lower() == "as":
                name = words[2]
            result.append({"name": name, "base": words[0], "ins": [], "index": len(result)})
        elif kw in ("ARG",) and not result:
            continue
        else:
            if not result:
                fail(f"Dockerfile: {kw} before the first FROM")
            result[-1]["ins"].append((kw, rest))
    if not result:
        fail("Dockerfile has no FROM")
    return result


def stage_by_name(all_stages, ref):
    for s in all_stages:
        if s["name"] == ref or str(s["index"]) == ref:
            return s
    return None


def split_args(rest):
    """Flags (--x=y) and arguments of COPY/ADD/ENTRYPOINT/CMD, in shell or JSON (exec) form."""
    flags = {}
    words = shlex.split(rest, posix=True) if not rest.lstrip().startswith("[") else None
    if words is None:
        return flags, json.loads(rest)
    args = []
    for w in words:
        if w.startswith("--") and not args:
            k, _, v = w[2:].partition("=")
            flags[k] = v
        else:
            args.append(w)
    if args and args[0].startswith("["):
        return flags, json.loads(" ".join(args))
    return flags, args


def exec_form(rest):
    rest = rest.strip()
    if rest.startswith("["):
        return json.loads(rest)
    return ["/bin/sh", "-c", rest]


def parse_env(rest):
    """ENV a=b c=d, or the legacy ENV a b."""
    words = shlex.split(rest)
    if words and "=" not in words[0]:
        return {words[0]: rest.split(None, 1)[1] if len(words) > 1 else ""}
    env = {}
    for w in words:
        k, _, v = w.partition("=")
        env[k] = v
    return env


# --- .dockerignore (Docker's patternmatcher: last match wins, a match on a parent counts) ---


def ignore_patterns():
    pats = []
    if not os.path.exists(".dockerignore"):
        return pats
    with open(".dockerignore", encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            neg = line.startswith("!")
            if neg:
                line = line[1:].strip()
            line = posixpath.normpath(line).lstrip("/")
            if line in ("", "."):
                continue
            pats.append((neg, pattern_regex(line), line))
    return pats


def pattern_regex(p):
    out, i = "", 0
    while i < len(p):
        c = p[i]
        if c == "*":
            if p[i : i + 2] == "**":
                i += 2
                if p[i : i + 1] == "/":
                    out += "(?:.*/)?"
                    i += 1
                else:
                    out += ".*"
                continue
            out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "[":
            j = p.find("]", i + 1)
            if j < 0:
                out += re.escape(c)
            else:
                cls = p[i + 1 : j]
                if cls.startswith(("!", "^")):
                    cls = "^" + cls[1:]
                out += "[" + cls.replace("\\", "\\\\") + "]"
                i = j
        elif c == "\\" and i + 1 < len(p):
            i += 1
            out += re.escape(p[i])
        else:
            out += re.escape(c)
        i += 1
    return re.compile("^" + out + "$")


def ignored(rel, pats):
    parts = rel.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for neg, rx, _ in pats:
        if any(rx.match(c) for c in candidates):
            excluded = not neg
    return excluded


def context_files():
    """Every file of the build context (the working tree, minus .dockerignore), relative paths."""
    pats = ignore_patterns()
    files = []
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames.sort()
        for name in sorted(filenames):
            rel = os.path.relpath(os.path.join(dirpath, name), ROOT).replace(os.sep, "/")
            if not ignored(rel, pats):
                files.append(rel)
    return files


# --- build stage ---------------------------------------------------------------------------


def cmd_context(dest):
    all_stages = stages()
    builds = [s for s in all_stages if any(kw == "RUN" and re.search(r"\bcargo\s+build\b", r) for kw, r in s["ins"])]
    if not builds:
        fail("no build stage: no RUN with `cargo build` in the Dockerfile")
    build = builds[-1]
    chain, s = [], build
    while s is not None:
        chain.insert(0, s)
        s = stage_by_name(all_stages, s["base"])
    files = context_files()
    fileset = set(files)
    rootfs = os.path.join(dest, "rootfs")
    os.makedirs(rootfs, exist_ok=True)
    workdir, cargo_args, copied = "/", None, 0
    for st in chain:
        for kw, rest in st["ins"]:
            if kw == "WORKDIR":
                workdir = posixpath.normpath(posixpath.join(workdir, rest.strip()))
                os.makedirs(rootfs + workdir, exist_ok=True)
            elif kw in ("COPY", "ADD"):
                flags, args = split_args(rest)
                if "from" in flags:
                    fail(f"build stage: `{kw} --from={flags['from']}` is not reproduced by this check")
                if len(args) < 2:
                    fail(f"Dockerfile: `{kw} {rest}` needs a source and a destination")
                copied += copy_into(kw, args[:-1], args[-1], workdir, rootfs, files, fileset)
            elif kw == "RUN" and st is build and cargo_args is None:
                m = re.search(r"\bcargo\s+build\b([^&;|]*)", rest)
                if m:
                    cargo_args = shlex.split(m.group(1))
                    run_dir = workdir
    print(f"WORKDIR\t{run_dir}")
    print("CARGO\t" + "\t".join(["build"] + cargo_args))
    print(f"FILES\t{copied}")


def copy_into(kw, sources, dest, workdir, rootfs, files, fileset):
    dest_abs = dest if dest.startswith("/") else posixpath.join(workdir, dest)
    globbing = any(ch in s for s in sources for ch in "*?[")
    dest_is_dir = dest.endswith("/") or len(sources) > 1 or globbing
    count = 0
    for src in sources:
        if re.match(r"^[a-z]+://", src):
            fail(f"`{kw} {src}`: remote sources are not reproduced by this check")
        src = posixpath.normpath(src).lstrip("/")
        if src == ".":
            matches = [""]
        else:
            rx = pattern_regex(src)
            dirs = {"/".join(f.split("/")[:n]) for f in files for n in range(1, f.count("/") + 1)}
            matches = sorted(p for p in fileset | dirs if rx.match(p))
        if not matches:
            hint = " (it is excluded by .dockerignore)" if os.path.exists(src) else ""
            fail(f"Dockerfile `{kw} {src} ...`: not in the build context{hint}")
        for m in matches:
            if m in fileset:
                target = posixpath.join(dest_abs, posixpath.basename(m)) if dest_is_dir else dest_abs
                put(m, rootfs + target)
                count += 1
            else:
                prefix = m + "/" if m else ""
                for f in files:
                    if f.startswith(prefix):
                        put(f, rootfs + posixpath.join(dest_abs, f[len(prefix) :]))
                        count += 1
    return count


def put(rel, target):
    os.makedirs(os.path.dirname(target), exist_ok=True)
    # copy2 keeps the modification time, so cargo rebuilds only what changed since the last check
    # (a file that is missing here is still noticed: cargo's fingerprint lists every input).
    shutil.copy2(os.path.join(ROOT, rel), target)


# --- runtime stage and compose -------------------------------------------------------------


def load_compose():
    try:
        import yaml
    except ImportError:
        fail("PyYAML is missing (image-check installs it; run .ci/image-check)")
    try:
        with open("docker-compose.yml", encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        fail("docker-compose.yml not found")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        fail(f"docker-compose.yml does not parse: {e}")
    if not isinstance(doc, dict):
        fail("docker-compose.yml: expected a mapping at the top")
    return text, doc


VAR_RE = re.compile(r"(?<!\$)\$(?:\{([A-Za-z_][A-Za-z0-9_]*)((?::?[-?+])[^}]*)?\}|([A-Za-z_][A-Za-z0-9_]*))")


def interpolate(value, overridden_ok):
    """Compose interpolation with no variables set: defaults used, ${X:?…} is an error."""

    def sub(m):
        name, op = m.group(1) or m.group(3), m.group(2) or ""
        if op[:2] in (":-",) or op[:1] == "-":
            return op[2:] if op.startswith(":-") else op[1:]
        if "?" in op[:2]:
            if overridden_ok:
                return ""
            fail(f"docker-compose.yml: ${{{name}}} is required ({op}) and has no default")
        return ""

    return VAR_RE.sub(sub, str(value)).replace("$$", "$")


def env_dict(env):
    if env is None:
        return {}
    if isinstance(env, list):
        out = {}
        for item in env:
            k, _, v = str(item).partition("=")
            out[k] = v
        return out
    if isinstance(env, dict):
        return {str(k): ("" if v is None else str(v)) for k, v in env.items()}
    fail("docker-compose.yml: environment must be a list or a mapping")


def volume_mounts(service):
    """(source, target) of the service's volumes; source None for anonymous ones."""
    out = []
    for v in service.get("volumes") or []:
        if isinstance(v, str):
            parts = v.split(":")
            if len(parts) == 1:
                out.append((None, parts[0]))
            else:
                out.append((parts[0], parts[1]))
        elif isinstance(v, dict):
            out.append((v.get("source"), v.get("target")))
    return out


def is_named(source):
    return source is not None and not source.startswith(("/", ".", "~", "$"))


def final_stage():
    return stages()[-1]


def cmd_compose():
    text, doc = load_compose()
    problems = []
    services = doc.get("services") or {}
    for name in ("db", "portal"):
        if name not in services:
            problems.append(f"service `{name}` is missing")
    for name, svc in services.items():
        hc = (svc or {}).get("healthcheck")
        if not hc or hc.get("disable") or not hc.get("test"):
            problems.append(f"service `{name}` has no healthcheck")
    # Variables used anywhere in the file must be documented in .env.example.
    used = sorted({m.group(1) or m.group(3) for m in VAR_RE.finditer(text)})
    try:
        with open(".env.example", encoding="utf-8") as f:
            example = f.read()
    except FileNotFoundError:
        example = ""
        problems.append(".env.example is missing")
    for var in used:
        if not re.search(rf"^[ \t]*(#[ \t]*)?{re.escape(var)}=", example, re.M):
            problems.append(f"${{{var}}} is used in docker-compose.yml but not documented in .env.example")
    # Named volumes: declared at the top and used by a service, both ways.
    declared = set((doc.get("volumes") or {}).keys())
    used_vols = set()
    for name, svc in services.items():
        for source, _ in volume_mounts(svc or {}):
            if is_named(source):
                used_vols.add(source)
                if source not in declared:
                    problems.append(f"service `{name}` uses volume `{source}`, which is not declared under volumes:")
    for v in sorted(declared - used_vols):
        problems.append(f"volume `{v}` is declared but no service uses it")
    portal = services.get("portal") or {}
    db = services.get("db") or {}
    if not any(is_named(s) for s, _ in volume_mounts(db)):
        problems.append("service `db` keeps its data on no named volume")
    dep = portal.get("depends_on") or {}
    cond = dep.get("db", {}).get("condition") if isinstance(dep, dict) else None
    if cond != "service_healthy":
        problems.append("service `portal` must depend on `db` with condition: service_healthy")
    build = portal.get("build")
    ctx = build if isinstance(build, str) else (build or {}).get("context")
    dockerfile = "Dockerfile" if isinstance(build, str) else (build or {}).get("dockerfile", "Dockerfile")
    if posixpath.normpath(str(ctx)) != "." or dockerfile != "Dockerfile":
        problems.append("service `portal` must build from . with the Dockerfile this check reads")
    # Every variable given to the portal is one the program reads.
    src_text = ""
    for dirpath, _, filenames in os.walk("src"):
        for fn in filenames:
            if fn.endswith(".rs"):
                with open(os.path.join(dirpath, fn), encoding="utf-8") as f:
                    src_text += f.read()
    penv = env_dict(portal.get("environment"))
    for k in penv:
        if f'"{k}"' not in src_text:
            problems.append(f"portal variable {k} is not read anywhere in src/")
    # The data folder is on a named volume whose mount point the image creates for its user
    # (Docker seeds a new volume from the image folder; a folder missing there gives a volume
    # owned by root, which the non-root portal cannot write to).
    fin = final_stage()
    image_env = {}
    user = None
    for kw, rest in fin["ins"]:
        if kw == "ENV":
            image_env.update(parse_env(rest))
        elif kw == "USER":
            user = rest.split(":")[0].strip()
    data_dir = interpolate(penv.get("SECPORTAL_DATA_DIR", image_env.get("SECPORTAL_DATA_DIR", "./data")), True)
    mounts = {posixpath.normpath(t): s for s, t in volume_mounts(portal) if t}
    if posixpath.normpath(data_dir) not in mounts or not is_named(mounts[posixpath.normpath(data_dir)]):
        problems.append(f"the portal's data folder {data_dir} is not on a named volume")
    runs = [rest for kw, rest in fin["ins"] if kw == "RUN"]
    for target, source in mounts.items():
        if not is_named(source) or user in (None, "root", "0"):
            continue
        made = any(
            target in r and (re.search(r"\bchown\b", r) or re.search(r"\binstall\b[^&;|]*\s-o\s*\S+", r)) for r in runs
        )
        if not made:
            problems.append(
                f"volume `{source}` is mounted at {target}, which the runtime stage does not create "
                f"owned by {user}: a new volume would be owned by root"
            )
    # Ports and health checks point at the address the portal listens on.
    addr = interpolate(penv.get("SECPORTAL_ADDR", image_env.get("SECPORTAL_ADDR", "")), True)
    port = addr.rsplit(":", 1)[-1] if ":" in addr else ""
    if not addr.startswith("0.0.0.0:"):
        problems.append(f"SECPORTAL_ADDR={addr}: in a container the portal must listen on 0.0.0.0")
    container_ports = [str(p).rsplit(":", 1)[-1].split("/")[0] for p in portal.get("ports") or []]
    if port not in container_ports:
        problems.append(f"service `portal` publishes {container_ports}, not the port it listens on ({port})")
    hc = " ".join(str(t) for t in (portal.get("healthcheck") or {}).get("test") or [])
    if f":{port}/readyz" not in hc:
        problems.append(f"the portal's healthcheck does not ask /readyz on port {port}")
    image_hc = " ".join(rest for kw, rest in fin["ins"] if kw == "HEALTHCHECK")
    if image_hc and f":{port}/readyz" not in image_hc:
        problems.append(f"the Dockerfile's HEALTHCHECK does not ask /readyz on port {port}")
    if "curl" in hc + image_hc and not any(re.search(r"\bcurl\b", r) for r in runs):
        problems.append("a healthcheck runs curl, which the runtime stage does not install")
    if problems:
        for p in problems:
            print(f"image check: docker-compose.yml: {p}", file=sys.stderr)
        sys.exit(1)
    print(f"compose: services {', '.join(services)}; volumes {', '.join(sorted(declared))}; variables {', '.join(used)}")


def cmd_runtime_env():
    _, doc = load_compose()
    portal = (doc.get("services") or {}).get("portal") or {}
    fin = final_stage()
    env, cmd, entry = {}, [], []
    for kw, rest in fin["ins"]:
        if kw == "ENV":
            env.update(parse_env(rest))
        elif kw == "CMD":
            cmd = exec_form(rest)
        elif kw == "ENTRYPOINT":
            entry = exec_form(rest)
    # The check sets these itself (database, listen address, data folder).
    # The file store too: the check has no bucket, so the binary starts on the local store.
    own = {"DATABASE_URL", "SECPORTAL_ADDR", "SECPORTAL_DATA_DIR", "SECPORTAL_FILE_STORE"}
    for k, v in env_dict(portal.get("environment")).items():
        env[k] = interpolate(v, k in own)
    if portal.get("command"):
        c = portal["command"]
        cmd = c if isinstance(c, list) else shlex.split(c)
    for k, v in env.items():
        print(f"ENV\t{k}={v}")
    print("ENTRYPOINT\t" + "\t".join(entry))
    print("CMD\t" + "\t".join(cmd))


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "context" and len(sys.argv) == 3:
        cmd_context(sys.argv[2])
    elif sys.argv[1:] == ["compose"]:
        cmd_compose()
    elif sys.argv[1:] == ["runtime-env"]:
        cmd_runtime_env()
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)

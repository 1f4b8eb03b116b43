"""`labelgate models list | promote VERSION | rollback`: the registered versions and the champion alias."""

from __future__ import annotations

import argparse
import time

from labelgate.parameters import DEFAULTS


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--registry-uri", default=DEFAULTS.registry_uri, help="MLflow tracking/registry URI")
    parser.add_argument("--model-name", default=DEFAULTS.model_name, help="registered model name")


def _expect(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--expect-champion", default=None, metavar="VERSION",
                        help="compare-and-set: act only if the champion is still VERSION ('none': no champion); "
                        "otherwise exit 3 and change nothing [default: the champion when the registry lock is taken]")


def _expected(args: argparse.Namespace) -> object:
    from labelgate.registry.store import ANY

    if args.expect_champion is None:
        return ANY
    return None if args.expect_champion.strip().lower() in ("none", "") else args.expect_champion.strip()


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="list registered versions, promote one, or roll back the champion")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    listing = verbs.add_parser("list", help="every registered model with its champion; with --model-name, every "
                               "version of it, newest first, with its status and aliases")
    listing.add_argument("--registry-uri", default=DEFAULTS.registry_uri, help="MLflow tracking/registry URI")
    listing.add_argument("--model-name", default=None, help="list this model's versions [default: every model]")
    listing.set_defaults(handler=handle_list)
    promoting = verbs.add_parser("promote", help="make a verified VERSION the champion")
    promoting.add_argument("version", metavar="VERSION")
    _common(promoting)
    _expect(promoting)
    promoting.set_defaults(handler=handle_promote)
    rolling = verbs.add_parser("rollback", help="give the champion back to the version that held it before")
    _common(rolling)
    _expect(rolling)
    rolling.set_defaults(handler=handle_rollback)


def _reload_hint(name: str) -> str:
    return (f"a running `labelgate serve --repository-token TOKEN` picks it up on reload: "
            f'curl -X POST -H "Authorization: Bearer $TOKEN" '
            f"http://127.0.0.1:8080/v2/repository/models/{name}/load (or restart it)")


def handle_list(args: argparse.Namespace) -> int:
    from labelgate.registry.store import list_models, list_versions

    if args.model_name is None:
        models = list_models(args.registry_uri)
        print(f"{len(models)} registered model(s) in {args.registry_uri}")
        print(f"{'MODEL':<30} {'VERSIONS':>8} {'CHAMPION':>8}")
        for name, count, champion in models:
            print(f"{name:<30} {count:>8} {champion or '-':>8}")
        if models:
            print(f"versions of one: labelgate models list --model-name {models[0][0]}; "
                  f"serve one: make serve MODEL_NAME={models[0][0]}")
        return 0
    from labelgate.registry.lease import reconcile

    versions = list_versions(args.registry_uri, args.model_name)
    reconciled = reconcile(args.registry_uri, args.model_name)
    if reconciled:
        versions = list_versions(args.registry_uri, args.model_name)
    print(f"{args.model_name} in {args.registry_uri}: {len(versions)} version(s)")
    print(f"{'VERSION':>7}  {'STATUS':<22} {'ALIASES':<10} {'CREATED (UTC)':<19}  {'TEST ACC':>8} {'TEST F1':>7}  SOURCE")
    for v in versions:
        created = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(v.created_ms / 1000)) if v.created_ms else "-"
        aliases = ",".join(v.aliases) or "-"
        rolled = " (rolled back)" if v.tags.get("labelgate.rolled_back") == "true" else ""
        if v.tags.get("labelgate.not_promoted") and not v.aliases:
            rolled = " (not promoted)"  # its push found the champion moved since its evaluation
        accuracy, f1 = v.tags.get("labelgate.test_accuracy", "-"), v.tags.get("labelgate.test_f1", "-")
        print(f"{v.version:>7}  {v.status + rolled:<22} {aliases:<10} {created:<19}  {accuracy:>8} {f1:>7}  {v.source}")
    for line in reconciled:
        print(f"reconciled a push that died: {line}")
    return 0


def handle_promote(args: argparse.Namespace) -> int:
    from labelgate.errors import ChampionMovedError
    from labelgate.registry.store import promote

    try:
        previous = promote(args.registry_uri, args.model_name, args.version, expected=_expected(args))
    except ChampionMovedError as exc:
        return _moved(exc)
    print(f"champion of {args.model_name}: version {args.version} (was {previous or 'none'}); {_reload_hint(args.model_name)}")
    return 0


def handle_rollback(args: argparse.Namespace) -> int:
    from labelgate.errors import ChampionMovedError
    from labelgate.registry.store import rollback

    try:
        current, target = rollback(args.registry_uri, args.model_name, expected=_expected(args))
    except ChampionMovedError as exc:
        return _moved(exc)
    print(f"champion of {args.model_name}: version {target} (rolled back from {current}); {_reload_hint(args.model_name)}")
    return 0


def _moved(exc: Exception) -> int:
    """A lost compare-and-set: nothing changed; exit 3 (blocked), as a gate that blocks."""
    import sys

    from labelgate.run import EXIT_BLOCKED

    print(f"labelgate: {exc}", file=sys.stderr)
    return EXIT_BLOCKED

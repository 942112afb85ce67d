"""``mmfusion kaggle push``: build the wheel(s), stage the datasets and kernels, push them with the
official ``kaggle`` client. Every folder first goes through the client's own code with only its network
seams (``build_kaggle_client``, ``_upload_blob``) answered here; nothing is sent unless all pass."""
import contextlib
import dataclasses
import io
import itertools
import json
import os
import shutil
import time
from pathlib import Path
from types import SimpleNamespace

from mmfusion.kaggle import build, render
from mmfusion.kaggle.kernels import (
    EXTRA_WHEELS_DATASET,
    KAGGLE_PYTHON,
    KERNELS,
    WEIGHTS_DATASET,
    WHEEL_DATASET,
)

NO_CLIENT = "the Kaggle client is not installed: pip install 'mmfusion[kaggle]' (or pip install kaggle)"
NO_CREDENTIALS = ("no Kaggle credentials: run `kaggle auth login`, or put an API token (kaggle.com > "
                  "Settings > API) in ~/.kaggle/access_token or $KAGGLE_API_TOKEN, or a legacy kaggle.json "
                  "in ~/.kaggle/ (or $KAGGLE_USERNAME and $KAGGLE_KEY)")
# the client only prints these, but each means Kaggle would not run what was rendered
CLIENT_WARNINGS = ("does not resolve to the specified id", "is retired")
KERNEL_PROBLEMS = ("error", "invalid_dataset_sources", "invalid_kernel_sources",
                   "invalid_competition_sources", "invalid_model_sources", "invalid_tags")
REQUEST_FIELDS = ("slug", "new_title", "owner_slug", "dataset_slug", "title", "license_name", "language",
                  "kernel_type", "is_private", "enable_gpu", "enable_internet", "machine_shape",
                  "dataset_data_sources", "kernel_data_sources", "model_data_sources")
WHEN = {"datasets.get_dataset_status": " (does it exist?)",
        "datasets.create_dataset": " (if it is new)", "datasets.create_dataset_version": " (if it exists)"}


class PushError(Exception):
    """The client refused a folder, Kaggle refused a request, or the set-up is incomplete."""


@dataclasses.dataclass
class Staged:
    user: str
    datasets: list        # dataset folders (each with dataset-metadata.json), pushed first
    kernels: list         # kernel folders (each with kernel-metadata.json)
    notes: str            # the notes of each new dataset version


def default_stage(user: str) -> Path:
    return Path("build") / "kaggle" / user


def selected(kernels) -> list:
    names = list(KERNELS) if not kernels or "all" in kernels else list(dict.fromkeys(kernels))
    unknown = [k for k in names if k not in KERNELS]
    if unknown:
        raise ValueError(f"unknown kernel {', '.join(unknown)}; kernels: {', '.join(KERNELS)}, all")
    return names


def _dataset_folder(out: Path, user: str, slug: str, title: str, description: str) -> Path:
    """An empty staging folder (a stale wheel left in it would be uploaded too) with its metadata."""
    folder = out / slug
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    meta = {"id": f"{user}/{slug}", "title": title, "description": description,
            "licenses": [{"name": "other"}]}
    (folder / "dataset-metadata.json").write_text(json.dumps(meta, indent=2) + "\n")
    return folder


def stage(user: str, kernels=None, offline: bool = False, repo: str | None = None, versions=None, out=None,
          datasets: bool = True, weights_dir=None, python_version: str = KAGGLE_PYTHON,
          constraints=None) -> Staged:
    """The dataset folders (wheel; offline extra wheels, ImageNet files) and the rendered kernels."""
    render.check_user(user)
    names = selected(kernels)
    out = Path(out) if out is not None else default_stage(user)
    info = build.build_info()
    folders = []
    if datasets:
        folders.append(_dataset_folder(
            out, user, WHEEL_DATASET, "mmfusion wheel",
            f"mmfusion {info['version']} (commit {info['commit']}), the package the mmfusion "
            "notebooks install (--no-deps). Uploaded by `mmfusion kaggle push`. MIT license."))
        if not build.mmfusion_wheel(folders[-1]):
            raise PushError(f"pip wheel wrote no mmfusion-*.whl into {folders[-1]}")
    if datasets and offline:
        folders.append(_dataset_folder(
            out, user, EXTRA_WHEELS_DATASET, "mmfusion extra wheels",
            f"The packages the mmfusion notebooks need beyond the Kaggle image, with their "
            f"dependencies, as wheels for Python {python_version} (internet off). "
            "Each wheel carries its own license."))
        if not build.extra_wheels(folders[-1], python_version, constraints):
            raise PushError(f"pip wrote no wheels into {folders[-1]}")
    if datasets and offline and weights_dir:
        needed = sorted({f for k in KERNELS.values() for f in k.weights_files})
        missing = [f for f in needed if not (Path(weights_dir) / f).is_file()]
        if missing:
            raise PushError(f"--weights-dir {weights_dir} lacks {', '.join(missing)}")
        folders.append(_dataset_folder(
            out, user, WEIGHTS_DATASET, "Keras ImageNet notop weights",
            "The Keras applications' ImageNet weights without the top (*_notop.h5) that "
            "the mmfusion notebooks load offline, as Keras distributes them."))
        for name in needed:
            (folders[-1] / name).symlink_to((Path(weights_dir) / name).resolve())
    metas = render.render(user, offline, out / "kernels", repo, versions, names)
    return Staged(user, folders, [m.parent for m in metas], f"mmfusion {info['version']} {info['commit']}")


@contextlib.contextmanager
def _quiet():
    with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.redirect_stderr(out):
        yield out


def load_client(user: str, dry_run: bool = False):
    """The ``kaggle`` module, which logs in on import (kaggle < 2 stops without credentials: a dry
    run imports it again with stand-in KAGGLE_USERNAME / KAGGLE_KEY)."""
    try:
        with _quiet():
            import kaggle
    except ImportError as err:
        raise PushError(f"{NO_CLIENT} ({err})") from err
    except (SystemExit, OSError) as err:
        if not dry_run:
            raise PushError(NO_CREDENTIALS) from err
        stand_in = {"KAGGLE_USERNAME": user, "KAGGLE_KEY": "dry-run"}
        added = {k: v for k, v in stand_in.items() if k not in os.environ}
        os.environ.update(added)
        try:
            with _quiet():
                import kaggle
        finally:
            for key in added:
                os.environ.pop(key, None)
    return kaggle


def live_api(client, user: str):
    """The client's logged-in KaggleApi, refusing another account's credentials (it would own the kernels)."""
    api = client.api
    try:
        with _quiet():
            api.authenticate()
    except (SystemExit, OSError) as err:
        raise PushError(NO_CREDENTIALS) from err
    who = (api.config_values.get("username") or "").lower()
    if who and who != user.lower():
        raise PushError(f"the Kaggle credentials here are {who}'s, not {user}'s: push with --user {who}")
    return api


def _not_found(what: str):
    import requests

    response = requests.Response()
    response.status_code = 404
    return requests.HTTPError(f"404 Client Error: Not Found for {what} (dry run)", response=response)


class _Recorded:
    """kagglesdk's KaggleClient: ``client.<service>.<api>.<method>(request)`` answered by the dry-run api."""

    def __init__(self, api, path=()):
        self._api, self._path = api, path

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return _Recorded(self._api, (*self._path, name))

    def __call__(self, request):
        return self._api.answer(f"{self._path[0]}.{self._path[-1]}", request)


def request_fields(request) -> dict:
    fields = {f: v for f in REQUEST_FIELDS if (v := getattr(request, f, None)) not in (None, "", [])}
    body = getattr(request, "body", None)
    if getattr(request, "text", None):
        fields["code"] = f"{len(request.text)} characters"
    if getattr(body, "version_notes", None):
        fields["version_notes"] = body.version_notes
    files = getattr(request, "files", None) or getattr(body, "files", None)
    if files is not None:
        fields["files"] = len(files)
    return fields


def dry_run_api(client, user: str):
    """The client's KaggleApi with its network seams answered: a dataset is "not found" until created."""
    class DryRunApi(client.KaggleApi):
        def answer(self, call: str, request):
            self.sent.append((call, request_fields(request)))
            owner = getattr(request, "owner_slug", "")
            ref = f"{owner}/{getattr(request, 'dataset_slug', '') or getattr(request, 'slug', '')}"
            if call == "datasets.get_dataset_status":
                if ref not in self.made:
                    raise _not_found(ref)
                return SimpleNamespace(status=SimpleNamespace(name="READY"))
            if call in ("datasets.create_dataset", "datasets.create_dataset_version"):
                self.made.add(ref)
                return SimpleNamespace(ref=ref, url=f"https://www.kaggle.com/datasets/{ref}", status="ok",
                                       error=None, invalid_tags=[])
            if call == "kernels.save_kernel":
                return SimpleNamespace(ref=request.slug, url=f"https://www.kaggle.com/code/{request.slug}",
                                       version_number=None, **dict.fromkeys(KERNEL_PROBLEMS))
            raise PushError(f"dry run: the client made a request this recorder does not answer ({call})")

        def build_kaggle_client(self):
            return contextlib.nullcontext(_Recorded(self))

        def _upload_blob(self, path, quiet, blob_type, upload_context, *args, **kwargs):
            upload = {"file": os.path.basename(path), "bytes": os.path.getsize(path)}
            self.sent.append(("blobs.upload", upload))
            return f"dry-run-token-{len(self.sent)}"

    api = DryRunApi()
    api.sent, api.made = [], set()
    api.config_values = {"username": user}    # never logged in: nothing is sent
    return api


def _meta(folder: Path, name: str) -> dict:
    try:
        return json.loads((folder / name).read_text())
    except (OSError, ValueError) as err:
        raise PushError(f"{folder}: {name}: {err}") from err


def client_check(folder: Path, call):
    """``call()`` (the client on ``folder``), its refusals and its warnings as PushError."""
    try:
        with _quiet() as said:
            result = call()
    except ValueError as err:
        raise PushError(f"{folder}: the kaggle client refuses it: {err}") from err
    for line in said.getvalue().splitlines():
        if any(w in line for w in CLIENT_WARNINGS):
            raise PushError(f"{folder}: the kaggle client warns: {line.strip()}")
    if error := getattr(result, "error", None):
        raise PushError(f"{folder}: {error}")
    return result


def dataset_exists(api, ref: str) -> bool:
    from requests import HTTPError

    try:
        api.dataset_status(ref)
    except HTTPError as err:
        if getattr(err.response, "status_code", None) in (403, 404):
            return False
        raise
    return True


def wait_ready(api, ref: str, timeout_s: float = 900, poll_s: float = 15, sleep=time.sleep) -> None:
    """Until Kaggle has processed the new version: a kernel started before would mount the old one."""
    for waited in itertools.count(0.0, poll_s):
        status = api.dataset_status(ref)
        if status == "ready":
            return
        if status == "error" or waited >= timeout_s:
            raise PushError(f"{ref}: Kaggle's processing of the new version is {status} after "
                            f"{waited:.0f} s; push the kernels later with --skip-datasets")
        sleep(poll_s)


def send(staged: Staged, dry_run: bool = False, client=None, echo=print, sleep=time.sleep) -> list:
    """Check every folder on a dry-run api (datasets as new and as a new version), then, unless ``dry_run``,
    push the datasets and, once Kaggle has processed them, the kernels. Returns the dry run's requests."""
    client = client or load_client(staged.user, dry_run)
    dry = dry_run_api(client, staged.user)
    for folder in staged.datasets:
        client_check(folder, lambda: dry.dataset_create_new(str(folder), quiet=True))
        client_check(folder, lambda: dry.dataset_create_version(str(folder), staged.notes, quiet=True))
    for folder in staged.kernels:
        client_check(folder, lambda: dry.kernels_push(str(folder)))
    echo(f"the kaggle client accepts the {len(staged.datasets)} dataset and {len(staged.kernels)} kernel "
         "folder(s)")
    if dry_run:
        for call, fields in dry.sent:
            listing = ", ".join(f"{k} {v}" for k, v in fields.items())
            echo(f"would send {call}{WHEN.get(call, '')}: {listing}")
        return dry.sent
    api = live_api(client, staged.user)
    ours = [_meta(folder, "dataset-metadata.json")["id"] for folder in staged.datasets]
    for folder, ref in zip(staged.datasets, ours):
        if dataset_exists(api, ref):
            client_check(folder, lambda: api.dataset_create_version(str(folder), staged.notes, quiet=True))
            echo(f"new version of the dataset {ref}")
        else:
            client_check(folder, lambda: api.dataset_create_new(str(folder), quiet=True))
            echo(f"created the dataset {ref} (private)")
    for ref in ours:
        wait_ready(api, ref, sleep=sleep)
    # the kernels' dataset sources that this push does not upload (the data, ImageNet weights)
    sources = {s for f in staged.kernels for s in _meta(f, "kernel-metadata.json")["dataset_sources"]
               if "/".join(s.split("/")[:2]) not in ours}
    missing = [s for s in sorted(sources) if not dataset_exists(api, s)]
    if missing:
        raise PushError(f"the kernels attach {', '.join(missing)}, which Kaggle does not have (offline, "
                        f"--weights-dir DIR uploads the ImageNet files; docs/kaggle.md)")
    for folder in staged.kernels:
        response = client_check(folder, lambda: api.kernels_push(str(folder)))
        problems = [f"{k.replace('_', ' ')}: {v}" for k in KERNEL_PROBLEMS[1:]
                    if (v := getattr(response, k, None))]
        if problems:
            raise PushError(f"{folder}: Kaggle refused the push: {'; '.join(problems)}")
        echo(f"pushed {_meta(folder, 'kernel-metadata.json')['id']} (version {response.version_number}): "
             f"{response.url}")
    return dry.sent

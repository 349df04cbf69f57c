"""Model files, training state and training settings under hostile values: every one is refused with one line
(CheckpointError / ReconError, exit 2) before a tensor is allocated or a file written; what was there stays."""

import copy
import json
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

from recon.diffusion.checkpoint import CheckpointError, load_model, read_config
from recon.diffusion.train import TrainConfig, train
from recon.diffusion.unet import PRESETS, UNet
from recon.errors import ReconError

from .harness import hostile

RECON = ["--sens", "file", "--mask", "vista", "--accel", "4", "--acs", "8", "--quiet", "--steps", "1"]


@pytest.fixture(scope="module")
def parts(tiny_model):
    """(config, weights) of a tiny trained model, to be broken one piece at a time."""
    return read_config(tiny_model), load_file(str(tiny_model))


def write_model(path, config, weights, raw: str | None = None):
    metadata = {"config": raw if raw is not None else json.dumps(config)}
    save_file(weights, str(path), metadata=metadata)
    return path


def recon_with(cine, model, tmp_path):
    return ["recon", cine, "--method", "dstdm", *RECON, "--model", model, "--out", tmp_path / "r.h5"]


def edit(change):
    """A config editor: `change(config)` mutates a deep copy."""
    def apply(config):
        config = copy.deepcopy(config)
        change(config)
        return config
    return apply


def put(section, key, value):
    return edit(lambda c: c[section].__setitem__(key, value))


def drop(key):
    return edit(lambda c: c.pop(key))


CONFIGS = [  # (case id, config editor, words in the message)
    ("no-unet", drop("unet"), ["lacks", "unet"]),
    ("no-sde", drop("sde"), ["lacks", "sde"]),
    ("no-plane-kind", drop("plane_kind"), ["plane_kind"]),
    ("unet-is-a-list", edit(lambda c: c.__setitem__("unet", [8, 2])), ["unet"]),
    ("channels-negative", put("unet", "channels", -4), ["channels", "-4"]),
    ("channels-million", put("unet", "channels", 10**6), ["channels", "1000000"]),
    ("channels-text", put("unet", "channels", "24"), ["channels", "whole number"]),
    ("channels-float", put("unet", "channels", 8.0), ["channels", "whole number"]),
    ("channels-bool", put("unet", "channels", True), ["channels", "whole number"]),
    ("channels-not-groupable", put("unet", "channels", 12), ["no network"]),
    ("multipliers-empty", put("unet", "multipliers", []), ["multipliers"]),
    ("multipliers-zero", put("unet", "multipliers", [1, 0]), ["multipliers"]),
    ("multipliers-ten-levels", put("unet", "multipliers", [1] * 10), ["multipliers", "6"]),
    ("multipliers-huge", put("unet", "multipliers", [1, 1000]), ["multipliers", "1000"]),
    ("multipliers-a-number", put("unet", "multipliers", 2), ["multipliers"]),
    ("blocks-zero", put("unet", "blocks", 0), ["blocks"]),
    ("embedding-odd", put("unet", "embedding", 33), ["embedding", "even"]),
    ("embedding-billion", put("unet", "embedding", 10**9), ["embedding"]),
    ("over-parameter-budget", edit(lambda c: c["unet"].update(channels=2048, multipliers=[32, 32, 32], blocks=32)),
     ["parameters", "16 x"]),
    ("sigma-max-nan", put("sde", "sigma_max", float("nan")), ["sigma_max"]),
    ("sigma-max-huge", put("sde", "sigma_max", 1e9), ["sigma_max"]),
    ("sigma-min-zero", put("sde", "sigma_min", 0.0), ["sigma_min"]),
    ("sde-unknown-key", put("sde", "beta", 1.0), ["sde"]),
    ("sde-is-text", edit(lambda c: c.__setitem__("sde", "ve")), ["sde"]),
    ("plane-kind-unknown", edit(lambda c: c.__setitem__("plane_kind", "zt")), ["plane_kind"]),
    ("architecture-other", edit(lambda c: c.__setitem__("architecture", "transformer")), ["architecture"]),
]


@pytest.mark.parametrize("change, words", [c[1:] for c in CONFIGS], ids=[c[0] for c in CONFIGS])
def test_model_config_outside_the_schema_is_refused(cine, tmp_path, parts, change, words):
    config, weights = parts
    model = write_model(tmp_path / "bad.safetensors", change(config), weights)
    hostile(recon_with(cine, model, tmp_path), tmp_path, words=(*words, "stdm train"))


RAW = [
    ("not-json", "{unet: 8", ["not JSON"]),
    ("json-list", "[1, 2]", ["not an object"]),
    ("json-text", '"a model"', ["not an object"]),
    ("json-null", "null", ["not an object"]),
]


@pytest.mark.parametrize("raw, words", [c[1:] for c in RAW], ids=[c[0] for c in RAW])
def test_config_that_is_not_a_json_object_is_refused(cine, tmp_path, parts, raw, words):
    model = write_model(tmp_path / "bad.safetensors", None, parts[1], raw=raw)
    hostile(recon_with(cine, model, tmp_path), tmp_path, words=tuple(words))


def first_key(weights):
    return sorted(weights)[0]


def with_value(value):
    def change(weights):
        weights = dict(weights)
        key = first_key(weights)
        broken = weights[key].clone()
        broken.view(-1)[0] = value
        weights[key] = broken
        return weights
    return change


WEIGHTS = [
    ("nan", with_value(float("nan")), ["NaN", "retrain"]),
    ("inf", with_value(float("inf")), ["Inf", "retrain"]),
    ("tensor-missing", lambda w: {k: v for k, v in w.items() if k != first_key(w)}, ["missing"]),
    ("tensor-extra", lambda w: {**w, "stowaway": torch.zeros(3)}, ["unexpected", "stowaway"]),
    ("wrong-shape", lambda w: {**w, first_key(w): torch.zeros(5, 5)}, ["wrong shape"]),
    ("integer-weights", lambda w: {k: v.to(torch.int32) for k, v in w.items()}, ["not floating point"]),
]


@pytest.mark.parametrize("change, words", [c[1:] for c in WEIGHTS], ids=[c[0] for c in WEIGHTS])
def test_weights_that_do_not_fit_or_are_not_finite_are_refused(cine, tmp_path, parts, change, words):
    config, weights = parts
    model = write_model(tmp_path / "bad.safetensors", config, change(weights))
    hostile(recon_with(cine, model, tmp_path), tmp_path, words=tuple(words))


@pytest.mark.parametrize("content, words", [
    (b"", ["not a safetensors"]), (b"\x00" * 64, ["not a safetensors"]), (b"PK\x03\x04junk" * 10, ["not a safetensors"]),
], ids=["empty", "zeros", "zip-junk"])
def test_files_that_are_not_models_are_refused(cine, tmp_path, content, words):
    (tmp_path / "bad.safetensors").write_bytes(content)
    hostile(recon_with(cine, tmp_path / "bad.safetensors", tmp_path), tmp_path, words=tuple(words))


def test_truncated_model_file_is_refused(cine, tmp_path, tiny_model):
    data = tiny_model.read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[: len(data) // 2])
    hostile(recon_with(cine, tmp_path / "cut.safetensors", tmp_path), tmp_path, words=("safetensors",))


def test_model_without_a_config_is_refused(cine, tmp_path, parts):
    save_file(parts[1], str(tmp_path / "plain.safetensors"))
    hostile(recon_with(cine, tmp_path / "plain.safetensors", tmp_path), tmp_path, words=("stdm train",))


def test_the_tiny_model_itself_is_accepted(cine, tmp_path, tiny_model):
    """The control: the checks refuse nothing `stdm train` writes."""
    model = shutil.copy(tiny_model, tmp_path / "tiny.safetensors")
    hostile(recon_with(cine, model, tmp_path), tmp_path, code=0, new=("r.h5",))


def test_nan_weights_are_refused_when_loaded_from_python(tmp_path, parts):
    model = write_model(tmp_path / "bad.safetensors", parts[0], with_value(float("nan"))(parts[1]))
    with pytest.raises(CheckpointError, match="NaN"):
        load_model(model)


# ---- resuming training: the state beside the weights ------------------------------------------------------------

@pytest.fixture
def run(tiny_model, tmp_path):
    """An earlier run's weights and state in tmp_path, and the command that would resume it."""
    out = shutil.copy(tiny_model, tmp_path / "m.safetensors")
    shutil.copy(tiny_model.with_suffix(".state.pt"), tmp_path / "m.state.pt")
    argv = ["train", "--data", tiny_model.parent, "--out", out, "--preset", "tiny", "--steps", "6", "--batch", "2",
            "--crop", "0", "--checkpoint-every", "1", "--quiet"]
    return tmp_path / "m.state.pt", argv


@pytest.fixture(scope="module")
def good_state(tiny_model):
    return torch.load(tiny_model.with_suffix(".state.pt"), weights_only=True)


def state_edit(change):
    def apply(state):
        state = copy.deepcopy(state)
        change(state)
        return state
    return apply


def set_key(key, value):
    return state_edit(lambda s: s.__setitem__(key, value))


def in_model(name, change):
    def apply(s):
        s[name] = dict(s[name])
        change(s[name])
    return state_edit(apply)


def first_param(state, name="model"):
    return sorted(state[name])[0]


def first_moment(change):
    def apply(s):
        change(s["optimiser"]["state"][0])
    return state_edit(apply)


STATES = [  # (case id, state editor, words)
    ("a-list", lambda s: [1, 2, 3], ["not a table"]),
    ("a-tensor", lambda s: torch.zeros(3), ["not a table"]),
    ("no-model", state_edit(lambda s: s.pop("model")), ["lacks", "model"]),
    ("no-optimiser", state_edit(lambda s: s.pop("optimiser")), ["lacks", "optimiser"]),
    ("step-negative", set_key("step", -1), ["step"]),
    ("step-text", set_key("step", "4"), ["step"]),
    ("step-float", set_key("step", 1.5), ["step"]),
    ("step-bool", set_key("step", True), ["step"]),
    ("losses-text", set_key("losses", "low"), ["losses"]),
    ("losses-mixed", set_key("losses", [0.5, "x"]), ["losses"]),
    ("seconds-nan", set_key("seconds", float("nan")), ["seconds"]),
    ("seconds-negative", set_key("seconds", -5.0), ["seconds"]),
    ("model-wrong-shape", in_model("model", lambda m: m.__setitem__(sorted(m)[0], torch.zeros(2, 2))), ["needs"]),
    ("model-missing-tensor", in_model("model", lambda m: m.pop(sorted(m)[0])), ["missing"]),
    ("model-extra-tensor", in_model("model", lambda m: m.__setitem__("extra.weight", torch.zeros(1))),
     ["unexpected"]),
    ("model-nan", in_model("model", lambda m: m.__setitem__(sorted(m)[0], m[sorted(m)[0]] * float("nan"))),
     ["NaN"]),
    ("model-not-a-table", set_key("model", [1, 2]), ["model"]),
    ("ema-other-preset", set_key("ema", UNet(PRESETS["small"]).state_dict()), ["ema", "preset"]),
    ("optimiser-not-a-table", set_key("optimiser", 3), ["optimiser"]),
    ("optimiser-no-groups", state_edit(lambda s: s["optimiser"].pop("param_groups")), ["optimiser"]),
    ("optimiser-moment-shape", first_moment(lambda e: e.__setitem__("exp_avg", torch.zeros(7))), ["exp_avg"]),
    ("optimiser-moment-nan", first_moment(lambda e: e.__setitem__("exp_avg_sq", e["exp_avg_sq"] * float("nan"))),
     ["NaN"]),
    ("optimiser-unknown-parameter", state_edit(lambda s: s["optimiser"]["state"].__setitem__(9999, {})),
     ["9999"]),
    ("optimiser-fewer-parameters", state_edit(lambda s: s["optimiser"]["param_groups"][0].__setitem__(
        "params", [0, 1])), ["covers 2"]),
    ("optimiser-lr-nan", state_edit(lambda s: s["optimiser"]["param_groups"][0].__setitem__("lr", float("nan"))),
     ["lr"]),
]


@pytest.mark.parametrize("change, words", [c[1:] for c in STATES], ids=[c[0] for c in STATES])
def test_malformed_training_state_is_refused_and_nothing_is_overwritten(run, good_state, change, words):
    path, argv = run
    torch.save(change(good_state), path)
    hostile(argv, path.parent, words=("training state", "nothing was changed", *words))


@pytest.mark.parametrize("content", [b"", b"garbage" * 20, b"PK\x03\x04" + b"\x00" * 100],
                         ids=["empty", "garbage", "broken-zip"])
def test_unreadable_training_state_is_refused(run, content):
    path, argv = run
    path.write_bytes(content)
    hostile(argv, path.parent, words=("training state", "nothing was changed"))


def test_truncated_training_state_is_refused(run):
    path, argv = run
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    hostile(argv, path.parent, words=("training state",))


class Payload:
    def __reduce__(self):
        return (print, ("this would run arbitrary code",))


def test_training_state_holding_objects_is_refused(run, good_state):
    path, argv = run
    torch.save({**good_state, "evil": Payload()}, path)
    hostile(argv, path.parent, words=("refused", "arbitrary code"))


def test_a_finished_state_resumes_to_nothing_and_changes_nothing(run):
    """The control: a good state passes the checks (step 4 of 4: nothing left to train, nothing rewritten)."""
    _, argv = run
    argv[argv.index("--steps") + 1] = "4"
    hostile(argv, argv[argv.index("--out") + 1].parent, code=0)


def test_init_from_a_model_with_nan_weights_is_refused(tmp_path, tiny_model, parts):
    bad = write_model(tmp_path / "bad.safetensors", parts[0], with_value(float("nan"))(parts[1]))
    argv = ["train", "--data", tiny_model.parent, "--out", tmp_path / "new.safetensors", "--preset", "tiny",
            "--steps", "1", "--batch", "2", "--crop", "0", "--quiet", "--init-from", bad]
    hostile(argv, tmp_path, words=("NaN",))


# ---- training settings ------------------------------------------------------------------------------------------

CLI_SETTINGS = [  # refused by the command line or by the engine: either way exit 2, one line, nothing written
    ("steps-zero", ["--steps", "0"], ["steps"]),
    ("lr-nan", ["--lr", "nan"], ["lr"]),
    ("batch-negative", ["--batch", "-2"], ["batch"]),
    ("sigma-max-beyond-a-loadable-model", ["--sigma-max", "5000"], ["sigma_max", "800"]),
    ("crop-too-small", ["--crop", "3"], ["crop", "8"]),
    ("preset-unknown", ["--preset", "huge"], ["preset"]),
    ("data-missing", ["--data", "/no/such/folder"], ["does not exist", "--data"]),
    ("patient-variation-too-strong", ["--patient-variation", "0.5"], ["patient-variation", "0.2"]),
]


@pytest.mark.parametrize("extra, words", [c[1:] for c in CLI_SETTINGS], ids=[c[0] for c in CLI_SETTINGS])
def test_bad_training_options_are_refused_before_anything_runs(tmp_path, tiny_model, extra, words):
    data = ["--data", tiny_model.parent] if "--data" not in extra else []
    argv = ["train", *data, "--out", tmp_path / "m.safetensors", "--preset", "tiny", "--steps", "2", "--batch",
            "2", "--crop", "0", "--quiet", *extra]
    hostile(argv, tmp_path, words=tuple(words))


SETTINGS = [  # TrainConfig fields as the widget or a script could set them
    ("steps", 0), ("steps", 2.5), ("steps", True), ("batch", 0), ("batch", 10**6), ("lr", float("nan")),
    ("lr", -1e-3), ("lr", float("inf")), ("warmup", -1), ("sigma_max", float("nan")), ("sigma_max", 0.005),
    ("sigma_min", 0.0), ("checkpoint_every", 0), ("max_minutes", float("nan")), ("max_minutes", -1.0),
    ("variants", 0), ("crop", 5), ("threads", 0), ("seed", -1), ("ema", 1.0), ("grad_clip", 0.0),
    ("skip_slices", (-1,)), ("planes", "zt"), ("preset", "huge"), ("data", []), ("data", ["/no/such"]),
    ("init_from", "/no/such.safetensors"), ("sigma_focus", 0.005), ("sigma_focus", 80.0),
    ("sigma_focus", float("nan")), ("patient_variation", -0.01), ("patient_variation", float("nan")),
    ("patient_variation", 0.3),
]


@pytest.mark.parametrize("name, value", SETTINGS, ids=[f"{n}={v!r}" for n, v in SETTINGS])
def test_train_config_out_of_range_is_refused_before_anything_runs(tmp_path, tiny_model, name, value):
    cfg = TrainConfig(data=str(tiny_model.parent), out=str(tmp_path / "m.safetensors"), preset="tiny", steps=2,
                      batch=2, crop=None)
    setattr(cfg, name, value)
    with pytest.raises(ReconError, match=name.split("_")[0] if name not in ("data",) else "data|source"):
        train(cfg, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_out_that_is_a_folder_is_refused(tmp_path, tiny_model):
    with pytest.raises(ReconError, match="folder"):
        train(TrainConfig(data=str(tiny_model.parent), out=str(tmp_path), preset="tiny", steps=1), progress=False)

"""CAM family against tf-keras-vis (the oracle) and on nested / multi-input models."""
import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from tf_keras_vis.gradcam import Gradcam  # noqa: E402
from tf_keras_vis.gradcam_plus_plus import GradcamPlusPlus  # noqa: E402
from tf_keras_vis.scorecam import Scorecam  # noqa: E402
from tf_keras_vis.utils.model_modifiers import ReplaceToLinear  # noqa: E402
from tf_keras_vis.utils.scores import CategoricalScore  # noqa: E402

from mmfusion.xai import GradCAM, GradCAMPlusPlus, ScoreCAM  # noqa: E402

SIZE = 16


def pearson(a, b):
    return np.array([np.corrcoef(x.ravel(), y.ravel())[0, 1] for x, y in zip(a, b)])


def conv_model(pool=False, seed=0, head="flatten"):
    """Small flat CNN; without pooling the last conv keeps the input resolution."""
    keras.utils.set_random_seed(seed)
    i = keras.Input((SIZE, SIZE, 3), name="image")
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(i)
    if pool:
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="last")(x)
    # A flatten head makes the gradients vary over space (GAP would make them constant).
    x = keras.layers.Flatten()(x) if head == "flatten" else keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(i, keras.layers.Dense(3, activation="softmax", name="out")(x))


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).uniform(0, 1, (4, SIZE, SIZE, 3)).astype("float32")


TARGETS = [0, 1, 2, 1]


@pytest.mark.parametrize("ours,ref", [(GradCAM, Gradcam), (ScoreCAM, Scorecam)])
def test_matches_tf_keras_vis_at_full_resolution(ours, ref, images):
    model = conv_model()
    got = ours(model)(images, TARGETS)
    want = ref(model, model_modifier=ReplaceToLinear())(
        CategoricalScore(TARGETS), images, penultimate_layer="last")
    assert got.shape == (4, SIZE, SIZE) and got.min() >= 0 and got.max() <= 1
    assert pearson(got, want).min() >= 0.99


def test_gradcam_plus_plus_is_eq19_and_close_to_tf_keras_vis(images):
    model = conv_model()
    got = GradCAMPlusPlus(model)(images, TARGETS)
    # Independent eq. 19 in numpy, from a linear-output copy and a plain GradientTape.
    linear = keras.models.clone_model(model)
    linear.set_weights(model.get_weights())
    linear.get_layer("out").activation = keras.activations.linear
    feats = keras.Model(linear.input, [linear.get_layer("last").output, linear.output])
    x = tf.constant(images)
    with tf.GradientTape() as tape:
        act, logits = feats(x)
        score = tf.reduce_sum(tf.gather(logits, TARGETS, axis=1, batch_dims=1))
    g = tape.gradient(score, act).numpy()
    a = act.numpy()
    denom = 2 * g**2 + a.sum(axis=(1, 2), keepdims=True) * g**3
    alpha = np.where(g != 0, g**2 / np.where(denom != 0, denom, 1), 0)
    w = (alpha * np.maximum(g, 0)).sum(axis=(1, 2), keepdims=True)
    cam = np.maximum((w * a).sum(-1), 0)
    cam = (cam - cam.min(axis=(1, 2), keepdims=True)) / np.ptp(cam, axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(got, cam, atol=1e-4)
    # tf-keras-vis also divides the alphas by their spatial sum: related, not equal.
    tkv = GradcamPlusPlus(model, model_modifier=ReplaceToLinear())(
        CategoricalScore(TARGETS), images, penultimate_layer="last")
    r = pearson(got, tkv)  # measured: 0.88, 0.97, 0.22, 0.99
    assert np.median(r) >= 0.8 and r.min() > 0, r


@pytest.mark.parametrize("ours,ref", [(GradCAM, Gradcam), (GradCAMPlusPlus, GradcamPlusPlus),
                                      (ScoreCAM, Scorecam)])
def test_pooled_model_upsampled_maps(ours, ref, images):
    model = conv_model(pool=True, head="gap")
    got = ours(model)(images, TARGETS)
    ref_explainer = ref(model, model_modifier=ReplaceToLinear())
    small = np.asarray(ref_explainer(CategoricalScore(TARGETS), images, penultimate_layer="last",
                                     expand_cam=False))
    # Same low-res map, upsampled with our (bilinear, half-pixel) convention: equal maps.
    up = tf.image.resize(small[..., None], (SIZE, SIZE)).numpy()[..., 0]
    assert got.shape == (4, SIZE, SIZE)
    assert pearson(got, up).min() >= 0.99
    # Against tf-keras-vis' own scipy zoom (align-corners): only the convention differs.
    full = ref_explainer(CategoricalScore(TARGETS), images, penultimate_layer="last")
    assert pearson(got, full).min() >= 0.9


def nested_and_flat(seed=1):
    keras.utils.set_random_seed(seed)
    bi = keras.Input((SIZE, SIZE, 3))
    b = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(bi)
    b = keras.layers.MaxPooling2D()(b)
    b = keras.layers.Conv2D(6, 3, padding="same", name="inner_conv")(b)
    b = keras.layers.Activation("relu")(b)
    backbone = keras.Model(bi, b, name="backbone")
    i = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.GlobalAveragePooling2D()(backbone(i))
    x = keras.layers.Dense(5, activation="relu")(x)
    nested = keras.Model(i, keras.layers.Dense(3, activation="softmax")(x))
    # The same network with the backbone's layers inlined (the tf-keras-vis-friendly form).
    flat = keras.Model(backbone.input, nested.layers[-1](nested.layers[-2](
        nested.layers[-3](backbone.output))))
    return nested, flat


@pytest.mark.parametrize("method", [GradCAM, GradCAMPlusPlus, ScoreCAM])
def test_nested_backbone_equals_flat(method, images):
    nested, flat = nested_and_flat()
    explainer = method(nested)
    assert explainer.layer.name == "inner_conv"  # default: last conv, found inside the backbone
    got = explainer(images)
    want = method(flat, layer_name="inner_conv")(images)
    np.testing.assert_allclose(got, want, atol=1e-5)
    ref = Gradcam(flat, model_modifier=ReplaceToLinear())
    if method is GradCAM:
        targets = nested.predict(images, verbose=0).argmax(1)
        tkv = ref(CategoricalScore(list(targets)), images, penultimate_layer="inner_conv")
        assert pearson(got, tkv).min() >= 0.95  # pooled: upsampling conventions differ


def two_input_model(seed=2):
    keras.utils.set_random_seed(seed)
    img = keras.Input((SIZE, SIZE, 3), name="image")
    vec = keras.Input((4,), name="clinical")
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv")(img)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Concatenate()([x, keras.layers.Dense(4, activation="relu")(vec)])
    return keras.Model({"image": img, "clinical": vec},
                       keras.layers.Dense(3, activation="softmax")(x))


def test_two_input_model_matches_plain_gradient_tape(images):
    model = two_input_model()
    clinical = np.random.default_rng(3).normal(size=(4, 4)).astype("float32")
    inputs = {"image": images, "clinical": clinical}
    got = GradCAM(model, input_name="image")(inputs, TARGETS)
    # Independent: the same gradient through a plain GradientTape on the original model, with
    # the last Dense read linearly (logits = penultimate features @ kernel + bias).
    feat = keras.Model(model.input, [model.get_layer("conv").output, model.layers[-1].input])
    dense = model.layers[-1]
    with tf.GradientTape() as tape:
        act, h = feat(inputs)
        logits = tf.matmul(h, dense.kernel) + dense.bias
        score = tf.reduce_sum(tf.gather(logits, TARGETS, axis=1, batch_dims=1))
    g = tape.gradient(score, act).numpy()
    cam = np.maximum((g.mean(axis=(1, 2), keepdims=True) * act.numpy()).sum(-1), 0)
    span = np.ptp(cam, axis=(1, 2), keepdims=True)
    low = cam.min(axis=(1, 2), keepdims=True)
    cam = np.where(span > 0, (cam - low) / np.maximum(span, 1e-12), 0)
    np.testing.assert_allclose(got, cam, atol=1e-4)
    # The clinical vector changes the target score but it is held fixed, not explained.
    other = GradCAM(model, input_name="image")({"image": images, "clinical": clinical * 0},
                                                TARGETS)
    assert got.shape == other.shape == (4, SIZE, SIZE)
    score_cam = ScoreCAM(model, input_name="image")(inputs, TARGETS)
    assert score_cam.shape == (4, SIZE, SIZE) and np.isfinite(score_cam).all()


def test_batches_reuse_one_trace_and_default_targets(images):
    model = conv_model()
    explainer = GradCAM(model, batch_size=2)
    batched = explainer(images)
    again = explainer(images[::-1].copy())
    assert explainer._traced.experimental_get_tracing_count() == 1
    single = np.concatenate([explainer(images[i:i + 1]) for i in range(4)])
    np.testing.assert_allclose(batched, single, atol=1e-5)
    np.testing.assert_allclose(again, batched[::-1], atol=1e-5)
    predicted = model.predict(images, verbose=0).argmax(1)
    np.testing.assert_allclose(batched, explainer(images, predicted), atol=1e-6)
    assert explainer.last_seconds_per_image > 0


def test_single_sigmoid_unit_scores_the_logit(images):
    keras.utils.set_random_seed(4)
    i = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="last")(i)
    model = keras.Model(i, keras.layers.Dense(1, activation="sigmoid")(keras.layers.Flatten()(x)))
    got = GradCAM(model)(images, [1, 1, 1, 1])
    want = Gradcam(model, model_modifier=ReplaceToLinear())(
        CategoricalScore([0, 0, 0, 0]), images, penultimate_layer="last")
    assert pearson(got, want).min() >= 0.99
    prob = ScoreCAM(model)
    assert prob(images, [0, 1, 0, 1]).shape == (4, SIZE, SIZE)


def test_clear_errors(images):
    model = conv_model()
    with pytest.raises(ValueError, match="no layer named 'nope'"):
        GradCAM(model, layer_name="nope")
    with pytest.raises(ValueError, match="3 targets for 4 inputs"):
        GradCAM(model)(images, [0, 1, 2])
    with pytest.raises(ValueError, match="input_name"):
        GradCAM(model, input_name="clinical")


def test_sequential_models_equal_their_functional_twin(images):
    keras.utils.set_random_seed(5)
    conv = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="c")
    head = [keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")]
    seq = keras.Sequential([keras.Input((SIZE, SIZE, 3)), conv, *head])
    backbone = keras.Sequential([keras.Input((SIZE, SIZE, 3)), conv], name="seq_backbone")
    i = keras.Input((SIZE, SIZE, 3))
    nested = keras.Model(i, head[1](head[0](backbone(i))))
    x = i
    for layer in (conv, *head):
        x = layer(x)
    flat = keras.Model(i, x)
    want = GradCAM(flat)(images, [0, 1, 0, 1])
    np.testing.assert_allclose(GradCAM(seq)(images, [0, 1, 0, 1]), want, atol=1e-6)
    np.testing.assert_allclose(GradCAM(nested)(images, [0, 1, 0, 1]), want, atol=1e-6)


def test_uint8_images_are_explained_like_float_images():
    import keras

    keras.utils.set_random_seed(3)
    inp = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")(inp)
    out = keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling2D()(x))
    model = keras.Model(inp, out)
    images = np.random.default_rng(0).integers(0, 256, (3, 16, 16, 3)).astype(np.uint8)
    from mmfusion.xai import GradCAM

    cam = GradCAM(model, layer_name="conv")
    np.testing.assert_allclose(cam(images, [0, 1, 0]), cam(images.astype(np.float32), [0, 1, 0]), atol=1e-6)


@pytest.mark.parametrize("method, kw",
                         [(GradCAM, {}), (GradCAMPlusPlus, {}), (ScoreCAM, {"max_channels": 4})])
def test_eager_explainers_equal_the_traced_ones(method, kw, images):
    model = conv_model(pool=True)
    traced, eager = method(model, **kw), method(model, eager=True, **kw)
    np.testing.assert_allclose(eager(images, TARGETS), traced(images, TARGETS), atol=1e-5)
    assert not hasattr(eager._traced, "experimental_get_tracing_count")     # a plain Python call

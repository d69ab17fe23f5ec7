"""The reference's multi-layer perceptron: shape, initial weights, layers, training.

The exercise's published training run (random.seed(5), 40 epochs) pins the numbers.
"""

import random
from collections.abc import Iterator
from typing import Any

import pytest
from exercise_paths import load_solution

REF5 = load_solution("reference", 5)

# ---------------------------------------------------------------------------------------
# The MLP
# ---------------------------------------------------------------------------------------

DATA = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
TARGETS = [1.0, -1.0, -1.0, 1.0]


@pytest.fixture
def seeded() -> Iterator[None]:
    """Seed the global random module (the reference draws from it), then restore it."""
    state = random.getstate()
    random.seed(5)
    yield
    random.setstate(state)


def all_weights(mlp: Any) -> list[Any]:
    return [p for layer in mlp.layers for n in layer.neurons for p in n.w + [n.b]]


def mlps_of(steps: range) -> pytest.MarkDecorator:
    return pytest.mark.parametrize(
        "mg", [load_solution("reference", k) for k in steps], ids=[f"step{k}" for k in steps]
    )


@mlps_of(range(4, 6))
def test_mlp_shape(mg: Any, seeded: None) -> None:
    mlp = mg.MLP(3, [4, 4, 1])
    assert mlp.layer_sizes == [3, 4, 4, 1]
    assert [len(layer.neurons) for layer in mlp.layers] == [4, 4, 1]
    assert [len(n.w) for layer in mlp.layers for n in layer.neurons] == [3] * 4 + [4] * 5
    assert len(all_weights(mlp)) == 41


@mlps_of(range(4, 6))
def test_initial_weights_are_uniform_and_not_all_zero(mg: Any, seeded: None) -> None:
    weights = [p.data for _ in range(20) for p in all_weights(mg.MLP(3, [4, 4, 1]))]
    assert all(-1.0 <= w <= 1.0 for w in weights)
    assert min(weights) < -0.9 and max(weights) > 0.9  # spread over [-1, 1], not a constant


@mlps_of(range(4, 6))
def test_layer_of_one_neuron_returns_a_value(mg: Any, seeded: None) -> None:
    assert isinstance(mg.Layer(3, 1)([1.0, 2.0, 3.0]), mg.Value)
    outs = mg.Layer(3, 2)([1.0, 2.0, 3.0])
    assert isinstance(outs, list) and len(outs) == 2
    assert all(isinstance(out, mg.Value) for out in outs)


@mlps_of(range(4, 6))
def test_hidden_layers_use_relu(mg: Any, seeded: None) -> None:
    mlp = mg.MLP(2, [3, 1])
    for neuron in mlp.layers[0].neurons:
        neuron.w[0].data, neuron.w[1].data, neuron.b.data = 1.0, 1.0, -5.0
    hidden = mlp.layers[0]([1.0, 2.0])  # every pre-activation is -2
    assert [h.data for h in hidden] == [0, 0, 0]
    assert all(h._op == "ReLU" for h in hidden)


def set_output_neuron(mlp: Any) -> None:
    """Hidden outputs relu(1 + 2 + 0) = 3 each; the output pre-activation is -9.5."""
    for neuron in mlp.layers[0].neurons:
        neuron.w[0].data, neuron.w[1].data, neuron.b.data = 1.0, 1.0, 0.0
    for neuron in mlp.layers[-1].neurons:
        for w in neuron.w:
            w.data = -1.0
        neuron.b.data = -0.5


def test_output_layer_is_linear(seeded: None) -> None:
    mlp = REF5.MLP(2, [3, 2])
    set_output_neuron(mlp)
    outs = mlp([1.0, 2.0])
    assert [out.data for out in outs] == [pytest.approx(-9.5)] * 2
    assert all(out._op != "ReLU" for out in outs)


def test_parameter_order(seeded: None) -> None:
    mlp = REF5.MLP(3, [4, 4, 1])
    params = mlp.parameters()
    assert len(params) == 41
    assert [id(p) for p in params] == [id(p) for p in all_weights(mlp)]
    neuron = mlp.layers[0].neurons[1]
    assert [id(p) for p in neuron.parameters()] == [id(p) for p in neuron.w + [neuron.b]]
    layer = mlp.layers[1]
    assert [id(p) for p in layer.parameters()] == [
        id(p) for n in layer.neurons for p in n.parameters()
    ]


def squared_error(mlp: Any) -> Any:
    return sum((mlp(x) - y) ** 2 for x, y in zip(DATA, TARGETS, strict=True))


def test_zero_grad(seeded: None) -> None:
    mlp = REF5.MLP(3, [4, 4, 1])
    squared_error(mlp).backward()
    assert any(p.grad != 0 for p in mlp.parameters())
    mlp.zero_grad()
    assert all(p.grad == 0 for p in mlp.parameters())


def test_published_training_run(seeded: None) -> None:
    mlp = REF5.MLP(3, [4, 4, 1])
    losses = []
    for _ in range(40):
        loss = squared_error(mlp)
        mlp.zero_grad()
        loss.backward()
        for p in mlp.parameters():
            p.data -= 0.05 * p.grad
        losses.append(loss.data)
    assert losses[0] == pytest.approx(11.536871, abs=5e-7)
    assert losses[39] == pytest.approx(0.000230, abs=5e-7)
    assert mlp([2.2, 3.15, -1.2]).data == pytest.approx(0.969479, abs=5e-7)


def test_step_4_mlp_is_step_5_with_a_relu_output(seeded: None) -> None:
    four = load_solution("reference", 4)
    state = random.getstate()
    mlp4 = four.MLP(3, [4, 4, 1])
    random.setstate(state)
    mlp5 = REF5.MLP(3, [4, 4, 1])
    assert [p.data for p in all_weights(mlp4)] == [p.data for p in all_weights(mlp5)]
    for x in DATA:
        hidden4, hidden5 = mlp4.layers[0](x), mlp5.layers[0](x)
        assert [h.data for h in hidden4] == pytest.approx([h.data for h in hidden5], abs=1e-12)
        assert mlp4(x).data == pytest.approx(max(0.0, mlp5(x).data), abs=1e-12)

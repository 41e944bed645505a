"""Parameter specs: parsing text, checking ranges and the error lines users see."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass

import pytest

from labs.params import ParamError, ParamSpec, build, param, parse_assignments, specs, to_dict
from labs.pde.lab import PdeParams


@dataclass(frozen=True)
class Demo:
    count: int = param(10, "how many", min=1, max=1000)
    rate: float = param(0.5, "a rate", min=0.0, max=1.0)
    verbose: bool = param(False, "talk more")
    colour: str = param("red", "a colour", choices=("red", "green"))
    name: str = param("x", "free text")
    floor: int = param(0, "at least zero", min=0)


def spec(name: str) -> ParamSpec:
    return {s.name: s for s in specs(Demo)}[name]


def test_specs_follow_declaration_order_and_metadata() -> None:
    got = specs(Demo)
    assert [s.name for s in got] == ["count", "rate", "verbose", "colour", "name", "floor"]
    count = got[0]
    assert (count.type, count.default, count.help, count.min, count.max) == (int, 10, "how many", 1, 1000)
    assert [s.type_name for s in got] == ["int", "float", "bool", "choice", "str", "int"]


def test_allowed_describes_valid_values() -> None:
    assert spec("count").allowed == "int in [1, 1000]"
    assert spec("rate").allowed == "float in [0, 1]"
    assert spec("verbose").allowed == "true or false"
    assert spec("colour").allowed == "one of red, green"
    assert spec("name").allowed == "str"
    assert spec("floor").allowed == "int >= 0"


@pytest.mark.parametrize(
    ("text", "value"),
    [("5", 5), (" 7 ", 7), ("1e3", 1000), ("1000", 1000), ("2.0", 2), ("1", 1)],
)
def test_int_parsing(text: str, value: int) -> None:
    got = spec("count").parse(text)
    assert got == value
    assert type(got) is int


@pytest.mark.parametrize("text", ["abc", "", "2.5", "1e400", "nan", "inf", "0x10"])
def test_int_refuses_non_integers(text: str) -> None:
    with pytest.raises(ParamError, match=r"^count=.* is not valid: expected int in \[1, 1000\]$"):
        spec("count").parse(text)


@pytest.mark.parametrize("text", ["0", "1001", "-5", "1e4"])
def test_int_range(text: str) -> None:
    with pytest.raises(ParamError, match=r"is out of range: expected int in \[1, 1000\]"):
        spec("count").parse(text)


def test_range_bounds_are_inclusive() -> None:
    assert spec("count").parse("1") == 1
    assert spec("count").parse("1000") == 1000
    assert spec("rate").parse("0") == 0.0
    assert spec("rate").parse("1.0") == 1.0


def test_float_parsing_and_range() -> None:
    got = spec("rate").parse("2.5e-1")
    assert got == 0.25 and type(got) is float
    with pytest.raises(ParamError, match=r"^rate=1\.5 is out of range: expected float in \[0, 1\]$"):
        spec("rate").parse("1.5")
    with pytest.raises(ParamError, match=r"^rate='x' is not valid"):
        spec("rate").parse("x")


@pytest.mark.parametrize("text", ["nan", "inf", "-inf"])
def test_float_refuses_non_finite(text: str) -> None:
    with pytest.raises(ParamError, match="finite"):
        spec("rate").parse(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [("true", True), ("TRUE", True), ("yes", True), ("on", True), ("1", True)]
    + [("false", False), ("No", False), ("off", False), ("0", False)],
)
def test_bool_parsing(text: str, value: bool) -> None:
    assert spec("verbose").parse(text) is value


@pytest.mark.parametrize("text", ["maybe", "", "2", "tru"])
def test_bool_refuses_other_words(text: str) -> None:
    with pytest.raises(ParamError, match="expected true or false"):
        spec("verbose").parse(text)


def test_choice() -> None:
    assert spec("colour").parse("green") == "green"
    with pytest.raises(ParamError, match=r"^colour='blue' is not valid: expected one of red, green$"):
        spec("colour").parse("blue")
    with pytest.raises(ParamError, match="one of red, green"):
        spec("colour").parse("RED")  # choices are exact


def test_build_from_text_and_typed_values() -> None:
    got = build(Demo, {"count": "1e2", "rate": 1, "verbose": "yes", "colour": "green"})
    assert got == Demo(count=100, rate=1.0, verbose=True, colour="green")
    assert type(got.rate) is float  # an int given for a float is widened
    assert build(Demo, {}) == Demo()
    with pytest.raises(FrozenInstanceError):
        got.count = 3  # type: ignore[misc]
    assert to_dict(got) == {
        "count": 100,
        "rate": 1.0,
        "verbose": True,
        "colour": "green",
        "name": "x",
        "floor": 0,
    }


@pytest.mark.parametrize(
    ("values", "pattern"),
    [
        ({"count": True}, r"^count=True is not valid: expected int"),  # a bool is not an int here
        ({"count": 2.0}, r"^count=2\.0 is not valid"),
        ({"rate": "fast"}, r"^rate='fast' is not valid"),
        ({"count": 0}, r"^count=0 is out of range"),
        ({"rate": float("nan")}, "finite"),
        ({"colour": "blue"}, "one of red, green"),
    ],
)
def test_build_refuses_bad_values(values: dict[str, object], pattern: str) -> None:
    with pytest.raises(ParamError, match=pattern):
        build(Demo, values)


def test_unknown_parameter_lists_the_valid_names() -> None:
    with pytest.raises(ParamError) as info:
        build(Demo, {"count": "3", "speed": "2"})
    assert str(info.value) == (
        "unknown parameter 'speed': valid parameters are count, rate, verbose, colour, name, floor"
    )


def test_param_error_is_a_value_error() -> None:
    assert issubclass(ParamError, ValueError)


def test_pde_defaults_are_valid_and_stable() -> None:
    p = build(PdeParams, {})
    assert p == PdeParams()
    assert p.dt <= 0.25


@pytest.mark.parametrize(
    ("values", "largest"),
    [({"dt": "0.3"}, "0.25"), ({"dt": "0.2", "diffusivity": "2"}, "0.125")],
)
def test_pde_dt_stability_names_largest_stable_dt(values: dict[str, str], largest: str) -> None:
    with pytest.raises(ParamError) as info:
        build(PdeParams, values)
    message = str(info.value)
    assert "unstable" in message
    assert message.endswith(f"= {largest}")


def test_pde_dt_at_the_stability_limit_is_accepted() -> None:
    assert build(PdeParams, {"dt": "0.25"}).dt == 0.25
    assert build(PdeParams, {"dt": "0.125", "diffusivity": "2"}).dt == 0.125


def test_pde_spec_errors() -> None:
    with pytest.raises(ParamError, match=r"^grid='abc' is not valid: expected int in \[8, 4096\]$"):
        build(PdeParams, {"grid": "abc"})
    assert build(PdeParams, {"grid": "1e3"}).grid == 1000
    with pytest.raises(
        ParamError, match="valid parameters are equation, grid, steps, frame_every, diffusivity, dt"
    ):
        build(PdeParams, {"foo": "1"})
    with pytest.raises(ParamError, match="one of fixed, periodic"):
        build(PdeParams, {"boundary": "open"})


def test_parse_assignments() -> None:
    assert parse_assignments([]) == {}
    assert parse_assignments(["grid=32", " dt =0.1", "label=a=b", "empty="]) == {
        "grid": "32",
        "dt": "0.1",
        "label": "a=b",
        "empty": "",
    }
    # The last of repeated names wins.
    assert parse_assignments(["grid=32", "grid=64"]) == {"grid": "64"}


@pytest.mark.parametrize("pair", ["grid", "=32", " =32", ""])
def test_parse_assignments_errors(pair: str) -> None:
    with pytest.raises(ParamError) as info:
        parse_assignments(["ok=1", pair])
    assert str(info.value) == f"--set {pair!r} is not of the form name=value"


def test_a_parameter_applies_only_to_the_equations_it_names() -> None:
    by_name = {spec.name: spec for spec in specs(PdeParams)}
    assert by_name["grid"].applies({"equation": "poisson"})  # no condition: always
    assert by_name["diffusivity"].applies({"equation": "heat"})
    assert not by_name["diffusivity"].applies({"equation": "wave"})
    assert by_name["c_re"].applies({"equation": "julia"})
    assert not by_name["c_re"].applies({"equation": "mandelbrot"})


def test_a_default_can_depend_on_another_parameter() -> None:
    grid = {spec.name: spec for spec in specs(PdeParams)}["grid"]
    assert grid.default_for({"equation": "heat"}) == 256 and grid.default_for({"equation": "wave"}) == 500
    assert grid.default_text == "256 (wave: 500)"
    assert build(PdeParams, {"equation": "wave"}).grid == 500  # the tutorial's pond
    assert build(PdeParams, {"equation": "wave", "grid": "64"}).grid == 64  # a value given wins
    assert build(PdeParams, {}).grid == 256
    assert build(PdeParams, {"equation": "julia"}).centre_x == 0.0
    assert build(PdeParams, {"equation": "mandelbrot"}).centre_x == -0.5


@pytest.mark.parametrize(
    ("by", "message"),
    [
        (("size", {"big": 9}), "'size', which is not a choice parameter"),
        (("shape", {"round": 9}), "default_by names shape='round', not one of its choices"),
        (("shape", {"square": 2.5}), "its default for shape=square is not a int"),
        (("shape", {"square": 100}), "n=100 is out of range"),
    ],
)
def test_a_default_by_that_could_never_apply_is_refused_when_the_parameters_are_read(
    by: tuple[str, dict[str, object]], message: str
) -> None:
    @dataclass(frozen=True)
    class Params:
        shape: str = param("square", "a choice", choices=("square", "line"))
        size: int = param(1, "not a choice")
        n: int = param(1, "depends on the shape", min=1, max=10, default_by=by)

    with pytest.raises(TypeError, match=message):
        specs(Params)

import pytest

from chalicelib.domain.template import Template, TemplateError


def test_fields_fill_in_and_fall_back_when_missing_or_blank() -> None:
    template = Template("Hi {first_name|there}, 2-for-1 at {branch|your local branch} tonight!")
    assert template.fields == {"first_name", "branch"}
    assert template.render({"first_name": "Sam", "branch": "Leeds"}) == "Hi Sam, 2-for-1 at Leeds tonight!"
    assert template.render({}) == "Hi there, 2-for-1 at your local branch tonight!"
    assert template.render({"first_name": "  "}) == "Hi there, 2-for-1 at your local branch tonight!"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "Hi {first_name}, welcome",  # no fallback
        "Hi {first_name|}, welcome",  # an empty fallback is the "Hi ," bug
        "Hi {first_name| }, welcome",
        "Hi {First|x}",
        "Hi {name|a|b}",
        "50% off {",
        "x" * 1601,
    ],
)
def test_templates_that_could_render_badly_are_refused(text: str) -> None:
    with pytest.raises(TemplateError):
        Template(text)


def test_missing_names_the_fields_that_fall_back_in_the_order_they_appear() -> None:
    template = Template("{branch|Leeds}: hi {first_name|there}, {branch|Leeds} again")
    assert template.missing({}) == ["branch", "first_name"]
    assert template.missing({"first_name": "Sam", "branch": " "}) == ["branch"]
    assert template.missing({"first_name": "Sam", "branch": "York"}) == []

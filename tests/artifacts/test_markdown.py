"""Overview markdown is rendered, then sanitised: user content never carries script into a page."""
import pytest

from artifacts.markdown import render_markdown


def test_it_renders_nothing_for_empty_input():
    assert render_markdown("") == ""
    assert render_markdown(None) == ""


def test_it_removes_script_elements_with_their_content():
    html = render_markdown("Hello\n\n<script>alert('x')</script>\n\n<style>body{display:none}</style>\n\nbye")
    assert "<script" not in html and "alert" not in html
    assert "<style" not in html and "display:none" not in html
    assert "Hello" in html and "bye" in html


@pytest.mark.parametrize("source", [
    '<img src="https://e.test/a.png" onerror="alert(1)">',
    '<a href="https://e.test" onclick="alert(1)">x</a>',
    '<p onmouseover="alert(1)">x</p>',
    '| a |\n|---|\n| <span onfocus="alert(1)">1</span> |',
])
def test_it_strips_event_handler_attributes(source):
    html = render_markdown(source)
    assert " on" not in html.replace("</", "").lower().replace("noopener", "")
    assert "alert" not in html


@pytest.mark.parametrize("source", [
    "[x](javascript:alert(1))",
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<img src="javascript:alert(1)">',
])
def test_it_drops_links_that_are_not_http_https_or_mailto(source):
    html = render_markdown(source)
    assert "javascript" not in html.lower()
    assert "data:" not in html and "vbscript" not in html


def test_it_removes_tags_outside_the_allow_list():
    html = render_markdown('<iframe src="https://e.test"></iframe><form action="/x"><input name="a"></form>ok')
    assert "<iframe" not in html and "<form" not in html and "<input" not in html
    assert "ok" in html


def test_links_keep_safe_schemes_and_get_nofollow_noopener():
    html = render_markdown("[site](https://example.test/a) [plain](http://example.test) [mail](mailto:a@example.test)")
    assert 'href="https://example.test/a"' in html
    assert 'href="http://example.test"' in html
    assert 'href="mailto:a@example.test"' in html
    assert html.count('rel="nofollow noopener"') == 3


def test_tables_survive():
    html = render_markdown("| Name | Size |\n|------|-----:|\n| app  | 2 GB |\n")
    assert "<table>" in html and "<th>Name</th>" in html
    assert "<td>app</td>" in html
    assert 'align="right"' in html or "2 GB</td>" in html


def test_fenced_code_survives_escaped():
    html = render_markdown('```python\nprint("<b>hi</b>")\n```\n')
    assert '<pre><code class="language-python">' in html
    assert "&lt;b&gt;hi&lt;/b&gt;" in html
    assert "<b>" not in html


def test_ordinary_formatting_survives():
    html = render_markdown("# Title\n\nSome **bold**, _em_ and `code`.\n\n- one\n- two\n\n> quoted")
    for fragment in ("<h1>Title</h1>", "<strong>bold</strong>", "<em>em</em>", "<code>code</code>", "<li>one</li>", "<blockquote>"):
        assert fragment in html


def test_a_refused_link_reads_as_its_text_without_a_stray_parenthesis():
    assert render_markdown('[click](javascript:alert("XSS")) after') == "<p>click after</p>"
    assert render_markdown("[x](javascript:alert('x'))") == "<p>x</p>"
    assert render_markdown('<a href="javascript:x">raw</a>') == "<p>raw</p>"
    assert 'href="https://e.com/a_(b)"' in render_markdown("[ok](https://e.com/a_(b))")


def test_a_stripped_image_leaves_no_broken_image_behind():
    assert render_markdown("<img src=x onerror=alert(1)>ok") == "<p>ok</p>"
    assert "<img" not in render_markdown('![i](javascript:alert("a")) text')
    assert render_markdown("![ok](https://e.com/a.png)") == '<p><img alt="ok" src="https://e.com/a.png"></p>'

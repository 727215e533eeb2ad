"""What a patient can type: a deterministic corpus of hostile inputs for the kiosk's text fields,
dates and phone numbers (issue 8).

Everything here is a literal or built from literals (no randomness), so a failure names the same
input on every run: ``TEXT["controls"][7]`` is always ``"Ana\\x07Ruiz"``. The categories:

========================  =====================================================================
``reportlab_markup``      ReportLab paragraph markup and entities: ``<b>``, ``<para>``,
                          ``</para>``, ``<font name=…>``, ``<img src=…>``, ``&amp;``, ``&#0;``,
                          unclosed and unknown tags, stray ``<`` ``>`` ``&``
``html_js``               HTML, script injection, template syntax
``sql``                   SQL injection, SQLCipher pragmas, LIKE wildcards
``quotes_backslashes``    straight, curly and other quotes; backslashes and escape lookalikes
``controls``              NUL and every other C0 control, DEL, every C1 control, each inside a
                          name; ANSI escape sequences
``surrogates_nonchars``   lone surrogates (Python str; Qt's binding drops them on the way in),
                          BOM, noncharacters (U+FFFE, U+FFFF, U+10FFFF), private use, U+FFFD
``bidi_rtl``              Hebrew, Arabic, Persian (ZWNJ), Urdu, Thaana, bidi overrides,
                          embeddings, isolates and marks, "Trojan source" reordering
``emoji``                 single, ZWJ sequences, flags, tag (subdivision) flags, skin tones,
                          keycaps, emoji newer than Python's Unicode tables, 100 and 61 emoji
``combining``             decomposed accents, Zalgo, lone and leading combining marks, Indic and
                          Thai scripts, Vietnamese
``cjk``                   Chinese, Japanese, Korean, half/full width, astral CJK (Ext B, G, H)
``long``                  10,000 characters (one word, words, markup, emoji), over Qt's own
                          32,767 limit, exactly at and one over each field's limit
``spaces``                leading, trailing, only spaces, NBSP and ideographic space, blank
                          lookalike letters, spaces hiding the rest of the text past a field
``newlines_tabs``         LF, CRLF, CR, NEL, U+2028/9, tab, VT, FF
``format_strings``        ``{0}`` ``%s`` ``{clinic_name}`` Qt ``%1`` and shell ``$HOME``
``path_like``             ``../../etc/passwd``, Windows devices, UNC and file URLs
``long_words``            one long word with no break point (widest glyphs, URLs, Arabic ligature
                          words that NFKD-expand eighteenfold)
``data_lookalikes``       JSON, numbers, booleans, ``null`` and other values a decoder could take
                          for something other than text
========================  =====================================================================

``DATES`` are what the date widget holds (month index, day text, year text). ``PHONES`` are
phone-like strings. The expected outcome is not stored here: the tests derive it from the
documented contract of ``kiosk.domain.answers`` so every input is judged by the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- building blocks --------------------------------------------------------------------------

ZALGO = (
    "Z\u0351\u0352\u0357\u0300\u0301\u0302\u0303\u0304a\u0316\u0317\u0318\u0319\u031c"
    "\u031dl\u0334\u0335\u0336g\u0361o\u0338"
)
FAMILY = "\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # one glyph, 7 code points
RAINBOW_FLAG = "\U0001f3f3\ufe0f\u200d\U0001f308"
SCOTLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
PINK_HEART = "\U0001fa77"  # Unicode 15: "unassigned" (Cn) in Python 3.11's tables
CJK_EXT_H = "\U00031350"  # Unicode 15 ideograph: also Cn in Python 3.11's tables


def _each_control(first: int, last: int) -> tuple[str, ...]:
    return tuple(f"Ana{chr(code)}Ruiz" for code in range(first, last + 1))


TEXT: dict[str, tuple[str, ...]] = {
    "reportlab_markup": (
        "<b>Bob</b>",
        "<b>unclosed bold",
        "</b></i></font></para>",
        "<para>x</para>",
        "</para><para>Eve",
        "<para autoLeading='max' fontSize=80>Big</para>",
        "<font name=Helvetica>Ana</font>",
        "<font name='Times-Roman' size=40 color=red>Ana</font>",
        "<font face=Courier>Ana",
        '<img src="/etc/passwd"/>',
        '<img src="https://example.invalid/x.png" width=2000 height=2000/>',
        "<img src=x>",
        "<br/>Ana<br/>",
        "Ana<br>Ruiz",
        "<i>Ana</i> <u>Ruiz</u> <strike>x</strike>",
        "<super>2</super><sub>3</sub>",
        "<seq id=x/><seqreset id=x/>",
        "<onDraw name=x label=y/>",
        "<a href='javascript:alert(1)'>link</a>",
        "<link href='https://example.invalid'>x</link>",
        "<span style='x'>Ana</span>",
        "<greek>a</greek> <bullet>*</bullet>",
        "<index item='x'/>",
        "&amp;",
        "&amp;amp;",
        "&lt;b&gt;not bold&lt;/b&gt;",
        "&#0;",
        "&#x41;&#66;",
        "&nbsp;&copy;&unknown;",
        "Tom & Jerry",
        "& ;",
        "a < b > c",
        "<<<>>>",
        "<",
        ">",
        "&",
        "<![CDATA[x]]>",
        "<!-- comment -->Ana",
        "<?xml version='1.0'?>",
        "<b><i>nested</b></i>",
    ),
    "html_js": (
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "javascript:alert(document.cookie)",
        "<svg onload=alert(1)>",
        "<iframe src=//example.invalid></iframe>",
        "<style>*{display:none}</style>",
        "<div style='font-size:80px'>Ana</div>",
        "<h1>Big</h1>",
        "<table><tr><td>cell",
        "<marquee>Ana</marquee>",
        '"><script>alert(1)</script>',
        "';alert(1);//",
        '<a href="x">y</a>',
        "<meta http-equiv=refresh content=0>",
        "{{7*7}}",
        "${7*7}",
        "<%= 7*7 %>",
        "data:text/html;base64,PHNjcmlwdD4=",
        "<body onload=alert(1)>",
        "</textarea><script>",
    ),
    "sql": (
        "Robert'); DROP TABLE visits;--",
        "' OR '1'='1",
        '" OR 1=1 --',
        "1; DELETE FROM answers",
        "admin'--",
        "' UNION SELECT * FROM staff_users --",
        "%' AND 1=0 --",
        "'; PRAGMA key='x'; --",
        "'); ATTACH DATABASE '/tmp/x' AS x;--",
        "\\'; DROP TABLE answers; --",
        "' || (SELECT sqlite_version()) || '",
        "1 OR 1=1",
        "%",
        "_",
        "%_%",
        "SELECT * FROM visits",
        "';--",
        "/* comment */",
        "`backticks`",
        "Ana'; UPDATE visits SET status='signed' WHERE '1'='1",
    ),
    "quotes_backslashes": (
        "O'Brien",
        "D'Angelo-O'Neil",
        '"quoted"',
        "\u2018curly\u2019 \u201cquotes\u201d",
        "\u00abguillemets\u00bb",
        "\u201eGerman\u201c",
        "C:\\Users\\Ana",
        "\\",
        "\\\\",
        "\\n literal",
        "\\x00",
        "\\u0000",
        "'",
        '"',
        "''''",
        '""""',
        "`",
        "\u00b4",
        "'\"'\"",
        "a\\b\\c",
    ),
    "controls": (
        "\x00",
        "\x00Ana",
        "Ana\x00",
        *_each_control(0x00, 0x1F),
        "Ana\x7fRuiz",
        *_each_control(0x80, 0x9F),
        "\x1b[31mred\x1b[0m",
        "\x07\x07\x07",
        "Ana\x08\x08\x08Eve",
        "\x00\x01\x02\x03",
    ),
    "surrogates_nonchars": (
        "\ud800",
        "Lone \ud800 half",
        "a\udfffb",
        "\ud83d",
        "x\ude00x",
        "\ud83d\ude00",  # a surrogate pair as two Python code points
        "\ufeffAna",
        "Ana\ufeff",
        "\ufeff",
        "\ufffeAna",
        "\uffff",
        "Ana\U0010ffff",
        "\ufffd",
        "\ue000 private",
        "\U000f0000",
    ),
    "bidi_rtl": (
        "\u05d3\u05e0\u05d4 \u05db\u05d4\u05df",  # Hebrew: Dana Cohen
        "\u05d3\u05e0\u05d4 \u05db\u05d4\u05df Dana Cohen",
        "\u0639\u0645\u0631 \u0627\u0644\u0641\u0627\u0631\u0648\u0642",  # Arabic: Omar Farouk
        "\u0645\u064f\u062d\u064e\u0645\u0651\u064e\u062f",  # Arabic with vowel marks
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian with ZWNJ
        "\u067e\u0627\u06a9\u0633\u062a\u0627\u0646",  # Urdu
        "\u078b\u07a8\u0788\u07ac\u0780\u07a8",  # Thaana
        "\u0661\u0669\u0666\u0661",  # Arabic-Indic digits
        "\u202eReversed\u202c",
        "\u202dForced LTR\u202c",
        "\u202aembedded\u202c \u202bembedded\u202c",
        "\u2066isolate\u2069 \u2067rtl\u2069 \u2068first\u2069",
        "Ana\u200eRuiz\u200f",
        "\u061c\u0639\u0645\u0631",
        "admin\u202e\u2066 // comment \u2069\u2066",
        "\u202e",
        "\u202e\u05d3\u05e0\u05d4\u202c",
        "Ana \u202egnirts desrever\u202c Ruiz",
        "\u0627\u0644\u0639\u0631\u0628\u064a\u0629 123 English",
        "\u05e9\u05dc\u05d5\u05dd (\u05d1\u05e8) [x]",
    ),
    "emoji": (
        "\U0001f600",
        "Ana \U0001f600",
        FAMILY,
        "\U0001f1fa\U0001f1f8 \U0001f1ea\U0001f1f8",
        RAINBOW_FLAG,
        SCOTLAND,
        "\U0001f44d\U0001f3fd",
        "\u2764\ufe0f",
        "1\ufe0f\u20e3",
        PINK_HEART,
        "\U0001fae0",
        "\U0001f3f3\ufe0f\u200d\u26a7\ufe0f",
        "\U0001f468\U0001f3ff\u200d\U0001f9b0",
        "Ana " + FAMILY + " Ruiz " + SCOTLAND,
        "\U0001f600" * 100,  # 100 characters (the name's limit), 200 UTF-16 units
        "\U0001f600" * 60,
        "\U0001f600" * 61,
        "\U0001f48a" * 150,  # pills, in a 200-character field
        "\u263a \u2603 \u2665",
        "\U0001f9d1\u200d\u2695\ufe0f Dr Ana",
    ),
    "combining": (
        "Rene\u0301e",
        "Nu\u0301n\u0303ez",
        ZALGO,
        ZALGO * 8,
        "e" + "\u0301" * 50,
        "\u0301",
        "\u0301Ana",
        "Ana\u034fRuiz",
        "\u1100\u1161\u11a8",  # Hangul in conjoining jamo
        "\u0928\u092e\u0938\u094d\u0924\u0947",  # Devanagari
        "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35",  # Thai
        "\u0ba4\u0bae\u0bbf\u0bb4\u0bcd",  # Tamil
        "Nguy\u1ec5n Th\u1ecb Minh Khai",
        "Nguye\u0302\u0303n",
        "a\u20dd b\u20de",  # enclosing marks
        "\u0338=",
    ),
    "cjk": (
        "\u5c71\u7530\u592a\u90ce",
        "\uae40\ubbfc\uc900",
        "\u738b\u5c0f\u660e",
        "\uff76\uff80\uff76\uff85",  # half-width katakana
        "\uff21\uff22\uff23 \uff11\uff12\uff13",  # full-width Latin and digits
        "\U0002070e\U00020731",  # CJK Extension B (astral)
        "\U00030ede",  # CJK Extension G
        CJK_EXT_H,
        "\u4f50\u3005\u6728",
        "\u3006\u30f4",
        "\u4e2d\u6587 English \u6df7\u5408",
        "\u5c71\u7530" * 50,
    ),
    "long": (
        "A" * 10_000,
        ("Zo\u00eb " * 2_500)[:10_000],
        "<b>" * 3_334,
        "\U0001f600" * 10_000,
        "x" * 40_000,  # more than QLineEdit holds
        "a" * 60,
        "a" * 61,
        "a" * 100,
        "a" * 101,
        "a" * 200,
        "a" * 201,
        "a " * 100,
    ),
    "spaces": (
        " Ana",
        "Ana ",
        "  Ana   Ruiz  ",
        " ",
        "   ",
        "\u00a0",
        "\u3000",
        "\u2003Ana\u2003",
        "Ana\u00a0Ruiz",
        "Ana\u202fRuiz",
        " " * 10_000,
        " " * 300 + "Ana Ruiz",  # the name is beyond what a capped field would keep
        "Ana" + " " * 300 + "Ruiz",
        "Ana Ruiz" + " " * 300,
        "\u200b",
        "\u200b\u200c\u200d",
        "\u180e",
        "\u2800",  # braille blank: a symbol, not a space
        "\u3164",  # hangul filler: a letter that looks blank
        "\u2028\u2029",
    ),
    "newlines_tabs": (  # LF, CR, TAB, VT, FF and NEL inside a name are in "controls"
        "Ana\r\nRuiz",
        "\n",
        "\r\n",
        "\n\n\n",
        "\t\tAna",
        "\tAna\t",
        "Ana \n Ruiz",
        "Ana\n\tRuiz\r\n",
        "Ana\u2028Ruiz",
        "Ana\u2029Ruiz",
        "line1\nline2\nline3",
        "ibuprofen\n\n400 mg",
    ),
    "format_strings": (
        "{0}",
        "{}",
        "%s",
        "%d%d%d",
        "%(name)s",
        "{clinic_name}",
        "{name}",
        "{x}",
        "{{}}",
        "%n%n%n",
        "{0.__class__}",
        "{.__globals__}",
        "%1 %2",
        "%L1",
        "$HOME",
        "${PATH}",
        "\\N{BULLET}",
        "{x:>99999}",
        "%%",
        "%-100000s",
    ),
    "path_like": (
        "../../etc/passwd",
        "..\\..\\windows\\win.ini",
        "/dev/null",
        "C:\\CON",
        "CON",
        "NUL",
        "file:///etc/passwd",
        "~/.ssh/id_rsa",
        "\\\\server\\share",
        "KC-00000000.pdf",
        "/tmp/../../x",
        "|ls -la",
        "$(reboot)",
        "`id`",
    ),
    "long_words": (
        "Pneumonoultramicroscopicsilicovolcanoconiosis" * 2,
        "a" * 99,
        "\u00d1" * 100,
        "W" * 100,
        "https://example.invalid/" + "a" * 150,
        "supercalifragilistic" * 5,
        "<b>&amp;</b>" * 15,
        "-" * 100,
        "\ufdfa" * 100,  # one Arabic ligature; NFKD makes each 18 characters
        "\ufdfd",  # the widest glyph in Unicode
        "\u337f" * 100,
        "Zo\u00eb<b>&amp;</b>\u00d1and\u00fa" * 10,
    ),
    "data_lookalikes": (
        "0",
        "-1",
        "1e309",
        "NaN",
        "Infinity",
        "true",
        "false",
        "null",
        "None",
        "undefined",
        "[]",
        '{"a": {}}',
        '{"name": "x"}',
        "[1, 2]",
        '["crps"]',
        '[{"name": "x", "dose": "y"}]',
        "2024-02-29",
        "(555) 010-0199",
    ),
}


def all_text() -> list[tuple[str, str]]:
    """Every text input as (``category[index]``, text), in a fixed order."""
    return [
        (f"{category}[{index}]", text)
        for category, texts in TEXT.items()
        for index, text in enumerate(texts)
    ]


# --- dates ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DateInput:
    """What the date widget holds: the month picked (0 = none), and the day and year typed."""

    month: int
    day: str
    year: str


def _iso(value: str) -> DateInput:
    year, month, day = value.rsplit("-", 2)
    return DateInput(int(month), day, year)


# The kiosk's fixed "today" in the tests is 2026-11-22 (tests.conftest.CLINIC_TIME).
DATES: dict[str, DateInput] = {
    "2099-02-30": _iso("2099-02-30"),
    "0000-01-01": _iso("0000-01-01"),
    "1899-12-31": _iso("1899-12-31"),
    "2024-02-29": _iso("2024-02-29"),
    "2023-02-29": _iso("2023-02-29"),
    "2000-02-29": _iso("2000-02-29"),
    "1900-02-29": _iso("1900-02-29"),
    "1961-04-31": _iso("1961-04-31"),
    "1961-03-05": _iso("1961-03-05"),
    "today": _iso("2026-11-22"),
    "tomorrow": _iso("2026-11-23"),
    "next year": _iso("2027-01-01"),
    "9999-12-31": _iso("9999-12-31"),
    "120 years old today": _iso("1906-11-22"),
    "121 years old": _iso("1905-11-21"),
    "0001-01-01": _iso("0001-01-01"),
    "two-digit year": DateInput(3, "5", "61"),
    "year 0": DateInput(3, "5", "0"),
    "day 0": DateInput(3, "0", "1961"),
    "day 32": DateInput(3, "32", "1961"),
    "day 00": DateInput(3, "00", "1961"),
    "blank": DateInput(0, "", ""),
    "spaces": DateInput(0, "  ", "  "),
    "month only": DateInput(3, "", ""),
    "no month": DateInput(0, "5", "1961"),
    "no day": DateInput(3, "", "1961"),
    "no year": DateInput(3, "5", ""),
    "letters": DateInput(3, "ab", "abcd"),
    "negative year": DateInput(3, "5", "-961"),
    "negative day": DateInput(3, "-5", "1961"),
    "spaced digits": DateInput(3, " 5", " 1961"),
    "arabic-indic digits": DateInput(3, "\u0665", "\u0661\u0669\u0666\u0661"),
    "full-width digits": DateInput(3, "\uff15", "\uff11\uff19\uff16\uff11"),
    "markup": DateInput(3, "<b", "<b>1"),
    "nul": DateInput(3, "\x005", "19\x0061"),
    "five-digit year": DateInput(3, "5", "19611"),
    "dash in day": DateInput(3, "5-", "1961"),
    "sql": DateInput(3, "'-", "1'--"),
}


# --- phone numbers ----------------------------------------------------------------------------

PHONES: tuple[str, ...] = (
    "(555) 010-0199",
    "555-010-0199",
    "555.010.0199",
    "5550100199",
    "1 555 010 0199",
    "+1 (555) 010-0199",
    "+44 20 7946 0958",
    "+52 55 1234 5678",
    "  (555) 010-0199  ",
    " " * 30 + "5550100199",  # the number is beyond what a capped field would keep
    "555 010 0199" + " " * 20 + "ext 12",
    "(555) 010-0199 ext 12",
    "555-010-019",
    "555-010-01999",
    "055-010-0199",
    "155-010-0199",
    "+1",
    "+",
    "++15550100199",
    "+123",
    "+1234567890123456",
    "phone",
    "",
    "   ",
    "(((555)))0100199",
    "555\n010\n0199",
    "555\t010\t0199",
    "555\x00010\x000199",
    "\u0665\u0665\u0665\u0660\u0661\u0660\u0660\u0661\u0669\u0669",  # Arabic-Indic digits
    "\uff15\uff15\uff15 \uff10\uff11\uff10 \uff10\uff11\uff19\uff19",  # full-width digits
    "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669",  # Arabic-Indic 0123456789
    "\u06f5\u06f5\u06f5\u06f0\u06f1\u06f0\u06f0\u06f1\u06f9\u06f9",  # Persian digits
    "+\u0664\u0664 20 7946 0958",
    "\u0e55\u0e55\u0e55\u0e50\u0e51\u0e50\u0e50\u0e51\u0e59\u0e59",  # Thai digits
    "555\u2013010\u20130199",  # en dashes
    "(555)\u00a0010-0199",
    "555-010-0199; DROP TABLE visits",
    "<b>5550100199</b>",
    "\u202e9910-010 )555(",
    "5" * 10_000,
    "5550100199" * 3,
    "1-800-FLOWERS",
    "0",
    "{0}",
)

"""The queue chart (clusters/charts.py): idle jobs and workers over time as an SVG made on the
server — points placed on their scales, labelled axes and a legend, words for screen readers,
escaped text, at most MAX_POINTS points, and a chart for no report and for one."""

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from clusters.charts import BOTTOM, HEIGHT, LEFT, MAX_POINTS, RIGHT, TOP, WIDTH, downsample, queue_chart

SVG = "{http://www.w3.org/2000/svg}"
NOON = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)  # the chart is well-formed XML, or this raises


def line(chart: ElementTree.Element, css: str) -> list[tuple[float, float]]:
    polyline = chart.find(f"{SVG}polyline[@class='{css}']")
    return [tuple(float(n) for n in pair.split(",")) for pair in polyline.get("points").split()]


def labels(chart: ElementTree.Element, css: str = "chart-label") -> list[str]:
    return [text.text for text in chart.iter(f"{SVG}text") if text.get("class") == css]


def test_points_are_placed_on_their_axes_scales():
    points = [(NOON, 0, 0), (NOON + timedelta(minutes=5), 100, 5), (NOON + timedelta(minutes=10), 212, 20)]
    chart = parse(queue_chart(points, now=NOON + timedelta(minutes=10)))
    # 212 idle jobs: four steps of 60 (the axis reaches 240); 20 workers: four steps of 5.
    assert labels(chart, "chart-idle-jobs-label") == ["0", "60", "120", "180", "240"]
    assert labels(chart, "chart-workers-label") == ["0", "5", "10", "15", "20"]
    bottom, height = HEIGHT - BOTTOM, HEIGHT - TOP - BOTTOM
    middle = LEFT + (WIDTH - LEFT - RIGHT) / 2
    assert line(chart, "chart-idle-jobs") == [
        (LEFT, bottom),
        (round(middle, 1), round(bottom - height * 100 / 240, 1)),
        (WIDTH - RIGHT, round(bottom - height * 212 / 240, 1)),
    ]
    assert line(chart, "chart-workers") == [
        (LEFT, bottom),
        (round(middle, 1), round(bottom - height * 5 / 20, 1)),
        (WIDTH - RIGHT, TOP),
    ]


def test_time_runs_to_now_with_round_ticks_in_nows_time_zone():
    zurich = ZoneInfo("Europe/Zurich")  # UTC+1 in March
    points = [(NOON + timedelta(minutes=3), 4, 1), (NOON + timedelta(minutes=30), 0, 2)]
    chart = parse(queue_chart(points, now=(NOON + timedelta(hours=1)).astimezone(zurich)))
    assert labels(chart) == ["13:15", "13:30", "13:45", "14:00", "Idle jobs (left)", "Workers (right)"]
    last_worker_x = line(chart, "chart-workers")[-1][0]
    assert LEFT < last_worker_x < WIDTH - RIGHT, "a silent head leaves a gap up to now"


def test_it_is_an_accessible_image_with_a_title_and_words():
    points = [(NOON, 7, 2), (NOON + timedelta(minutes=1), 212, 5)]
    chart = parse(queue_chart(points, now=NOON + timedelta(minutes=1), title="Queue of demo"))
    assert chart.get("role") == "img"
    assert chart.get("aria-labelledby") == "queue-chart-title queue-chart-desc"
    assert chart.find(f"{SVG}title").text == "Queue of demo"
    assert chart.find(f"{SVG}desc").text == (
        "From 12:00 to 12:01: idle jobs between 7 and 212, workers between 2 and 5. "
        "Latest: 12:01:00, 212 idle jobs and 5 workers."
    )


def test_no_report_is_a_chart_that_says_so():
    svg = queue_chart([], now=NOON)
    chart = parse(svg)
    assert chart.find(f"{SVG}desc").text == "No queue report yet."
    assert labels(chart, "chart-empty") == ["No queue report yet."]
    assert "<polyline" not in svg


def test_one_report_is_a_dot_at_the_right():
    chart = parse(queue_chart([(NOON, 12, 3)], now=NOON))
    dot = chart.find(f"{SVG}circle[@class='chart-workers']")
    assert float(dot.get("cx")) == WIDTH - RIGHT
    assert line(chart, "chart-workers") == [(WIDTH - RIGHT, float(dot.get("cy")))]
    assert labels(chart, "chart-workers-label") == ["0", "1", "2", "3", "4"]


def test_text_from_outside_is_escaped():
    svg = queue_chart([(NOON, 1, 1)], now=NOON, title='</title><script>alert("x")</script>&')
    assert "<script>" not in svg
    assert parse(svg).find(f"{SVG}title").text == '</title><script>alert("x")</script>&'


def test_it_has_no_style_attribute_nor_script():
    svg = queue_chart([(NOON, 1, 1), (NOON + timedelta(minutes=1), 2, 2)], now=NOON + timedelta(minutes=2))
    assert "style=" not in svg and "<script" not in svg and " on" not in svg


def test_many_reports_are_downsampled_keeping_a_short_burst():
    # A week of reports every 30 s, with one burst of 500 idle jobs reported once.
    points = [(NOON + timedelta(seconds=30 * i), 10, 2) for i in range(7 * 24 * 120)]
    burst = len(points) // 2
    points[burst] = (points[burst][0], 500, 2)
    chart = parse(queue_chart(points, now=points[-1][0]))
    jobs = line(chart, "chart-idle-jobs")
    assert len(jobs) <= MAX_POINTS and len(line(chart, "chart-workers")) == len(jobs)
    assert labels(chart, "chart-idle-jobs-label")[-1] == "600"
    assert min(y for _x, y in jobs) == round(HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * 500 / 600, 1)
    assert labels(chart)[:-2] == ["03 Mar", "05 Mar", "07 Mar"], "every two days"


def test_downsampling_keeps_the_last_time_and_the_highest_values_of_each_group():
    points = [(NOON + timedelta(seconds=i), i % 7, 9 - i % 10) for i in range(10)]
    assert downsample(points, 10) == points
    assert downsample(points, 5) == [
        (NOON + timedelta(seconds=i + 1), max(i % 7, (i + 1) % 7), 9 - i) for i in range(0, 10, 2)
    ]
    assert len(downsample(points, 3)) == 3


@given(
    st.lists(
        st.tuples(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 10**4)),
        max_size=MAX_POINTS * 3,
    ),
    st.integers(0, 10**5),
)
def test_every_point_lies_inside_the_plot(raw, later):
    seconds = sorted(s for s, _, _ in raw)
    points = [
        (NOON + timedelta(seconds=s), jobs, workers)
        for s, (_, jobs, workers) in zip(seconds, raw, strict=True)
    ]
    now = NOON + timedelta(seconds=(seconds[-1] if seconds else 0) + later)
    chart = parse(queue_chart(points, now=now))
    for css in ("chart-idle-jobs", "chart-workers") if points else ():
        drawn = line(chart, css)
        assert 1 <= len(drawn) <= MAX_POINTS
        assert all(LEFT <= x <= WIDTH - RIGHT and TOP <= y <= HEIGHT - BOTTOM for x, y in drawn)

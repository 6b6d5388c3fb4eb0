"""Generates the bike_rentals example's data: hourly rentals of a city's bike-share scheme, as Parquet.

One row per hour: the time, the hour of the day, whether it is a working day or a holiday,
the temperature, the humidity, the wind speed, the weather as text (clear, cloudy, rain,
snow) and the bikes rented in that hour. Rentals follow the commuting peaks of working days
and the afternoon hump of days off, rise with warmth up to a comfortable temperature, and
fall with wind, rain and snow, with noise. The humidity sensor was out for a few days, so
some of its cells are null.

The files are written with pyarrow, with typed columns: a timestamp, small integers,
booleans, floats, text. `history/` holds 2025 in four quarterly part files (read as one
table), `test.parquet` the first quarter of 2026, and `forecast.parquet` the next day's
24 hours as a weather forecast gives them, without rentals. Fixed seed: the files are
reproducible.

Run: python examples/bike_rentals/generate_data.py
"""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
WEATHER = ["clear", "cloudy", "rain", "snow"]
HOLIDAYS = {(1, 1), (4, 18), (4, 21), (5, 1), (5, 29), (6, 9), (10, 3), (12, 25), (12, 26)}


def hours(start: datetime.datetime, count: int, rng: np.random.Generator, with_rentals: bool = True) -> pa.Table:
    times = [start + datetime.timedelta(hours=h) for h in range(count)]
    hour = np.array([t.hour for t in times])
    day_of_year = np.array([t.timetuple().tm_yday for t in times])
    holiday = np.array([(t.month, t.day) in HOLIDAYS for t in times])
    working = np.array([t.weekday() < 5 for t in times]) & ~holiday
    season = -np.cos(2 * np.pi * (day_of_year - 15) / 365)  # -1 in mid-January, 1 in mid-July
    temperature = 11 + 10 * season + 5 * np.sin(2 * np.pi * (hour - 9) / 24) + rng.normal(0, 2.5, count)
    humidity = np.clip(70 - 1.2 * (temperature - 11) + rng.normal(0, 10, count), 15, 100)
    wind = np.abs(rng.normal(12, 6, count))
    # weather changes by the half day, not by the hour
    spells = rng.choice(4, size=count // 12 + 1, p=[0.45, 0.35, 0.17, 0.03])
    weather = spells[np.arange(count) // 12]
    weather = np.where((weather == 3) & (temperature > 3), 2, weather)  # no snow above 3 degrees
    weather = np.where((weather == 2) & (temperature < -1), 3, weather)

    commute = 220 * np.exp(-((hour - 8) ** 2) / 2) + 260 * np.exp(-((hour - 17.5) ** 2) / 3)
    leisure = 160 * np.exp(-((hour - 14) ** 2) / 12)
    daytime = 25 * ((hour >= 6) & (hour <= 22))
    base = np.where(working, commute + 0.4 * leisure, leisure * 1.3) + daytime + 5
    warmth = np.clip(np.exp(-((temperature - 22) ** 2) / 180), 0.08, None)
    damp = np.array([1.0, 0.85, 0.35, 0.15])[weather] * np.exp(-np.maximum(wind - 20, 0) / 15)
    expected = base * warmth * damp
    rentals = rng.poisson(np.maximum(expected, 0.5))

    sensor = np.ones(count, dtype=bool)
    if count > 24 * 20:
        out = int(rng.integers(0, count - 24 * 4))
        sensor[out : out + 24 * 3] = False  # three days without humidity readings
    columns = {
        "time": pa.array(times, pa.timestamp("s")),
        "hour": pa.array(hour, pa.int8()),
        "working_day": pa.array(working),
        "holiday": pa.array(holiday),
        "temperature": pa.array(np.round(temperature, 1), pa.float32()),
        "humidity": pa.array(np.round(humidity), pa.float32(), mask=~sensor),
        "wind_speed": pa.array(np.round(wind, 1), pa.float32()),
        "weather": pa.array([WEATHER[w] for w in weather], pa.string()),
    }
    if with_rentals:
        columns["rentals"] = pa.array(rentals, pa.int32())
    return pa.table(columns)


def main() -> None:
    rng = np.random.default_rng(1817)
    year = hours(datetime.datetime(2025, 1, 1), 365 * 24, rng)
    (HERE / "history").mkdir(exist_ok=True)
    for q, first in enumerate((1, 4, 7, 10)):
        months = year.filter(pc.is_in(pc.month(year["time"]), pa.array([first, first + 1, first + 2])))
        pq.write_table(months, HERE / "history" / f"2025-q{q + 1}.parquet")
    pq.write_table(hours(datetime.datetime(2026, 1, 1), (31 + 28 + 31) * 24, rng), HERE / "test.parquet")
    forecast = hours(datetime.datetime(2026, 4, 1), 24, rng, with_rentals=False)
    # a forecast arrives with its columns in its own order
    pq.write_table(forecast.select(["time", "weather", "temperature", "wind_speed", "humidity", "hour", "holiday",
                                    "working_day"]), HERE / "forecast.parquet")


if __name__ == "__main__":
    main()

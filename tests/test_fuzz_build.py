"""Mutated examples that pass every check also build: Keras refusing a value is our located
error, never a traceback. (The parse and check fuzzing is in test_fuzz.py.)"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

import nndsl
from test_fuzz import assert_well_formed, mutants

pytestmark = pytest.mark.keras


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutants)
def test_mutated_programs_that_check_also_build(text):
    try:
        checked = nndsl.check(text, filename="fuzz.nn")
    except nndsl.NndslError as err:
        assert_well_formed(err, text)
        return
    for name in checked.models:
        try:
            nndsl.build(checked, model=name)
        except nndsl.NndslError as err:
            assert_well_formed(err, text)

"""Tests of the tenant admin console (/manage/)."""

"""Test helpers: local servers, fixtures, builders."""

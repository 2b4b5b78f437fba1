"""The shapes the CAD API (cases/cad/) and the field API (responders/field/api/) share
(`serializers.py`) and the schema's rules for both (`schema.py`): beneath both surfaces."""

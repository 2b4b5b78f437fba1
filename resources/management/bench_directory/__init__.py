"""The pieces of `manage.py bench_directory_search` (resources/management/commands/): the queries
it times (`queries`) and the gunicorn server and signed-in sessions it times them over
(`server`)."""

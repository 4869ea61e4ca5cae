"""The public help-center site: server-rendered Jinja2 pages over the PUBLIC view, plus a little plain JavaScript."""

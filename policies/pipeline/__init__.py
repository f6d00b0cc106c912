"""Pipeline family: GitHub Actions workflows (and zizmor), Helm install scripts."""

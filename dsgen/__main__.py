"""`python -m dsgen`."""

from dsgen._cli import main

main()

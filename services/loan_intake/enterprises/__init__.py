"""The firms that applied, as the bureau finds them: searched by name or USCC, and one
firm's profile with its contacts, latest declared financials and every application."""

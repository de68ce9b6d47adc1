from agent.cli import app

app()

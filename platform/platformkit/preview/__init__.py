"""The offline engine: run a Pulumi Python program under Pulumi's mock runtime and record it."""

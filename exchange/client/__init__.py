"""The client side: building what the server expects, and (issue 5) the SDK over HTTP."""

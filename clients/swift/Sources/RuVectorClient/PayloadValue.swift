// PayloadValue and Payload live in their own module, shared with the server's engine.
@_exported import Payload

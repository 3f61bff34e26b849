// PayloadValue and Payload live in their own module, shared with the Swift client.
@_exported import Payload

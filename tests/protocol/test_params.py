"""parse_params: request params become models, or errors that name the field."""

from __future__ import annotations

from typing import Any

import pytest

from parley.protocol import models
from parley.protocol.params import parse_params
from parley.rpc.errors import INVALID_REQUEST, ClientError

THREAD_ID = "01a20d04-72aa-7591-9ade-219167859ce2"


def error_of(model: Any, params: object) -> ClientError:
    with pytest.raises(ClientError) as info:
        parse_params(model, params)
    return info.value


def test_missing_field_is_named() -> None:
    """A request without a required field is rejected with the reference's message."""
    error = error_of(models.ThreadRealtimeStopParams, {})
    assert error.message == "Invalid request: missing field `threadId`"
    assert error.code == INVALID_REQUEST


def test_missing_params_read_as_empty_object() -> None:
    """Params sent as null (or left out) are read as `{}`, so required fields are reported."""
    assert error_of(models.TurnInterruptParams, None).message == (
        "Invalid request: missing field `threadId`; missing field `turnId`"
    )
    assert parse_params(models.ThreadRealtimeListVoicesParams, None).model_fields_set == set()


def test_empty_array_params_read_as_empty_object() -> None:
    """`"params": []` works for a method without fields, as it does with the reference."""
    parsed = parse_params(models.ThreadRealtimeListVoicesParams, [])
    assert isinstance(parsed, models.ThreadRealtimeListVoicesParams)


def test_params_that_are_not_an_object_are_rejected() -> None:
    """A string as params is reported as the wrong type for `params`."""
    error = error_of(models.ThreadRealtimeListVoicesParams, "x")
    assert (
        error.message == 'Invalid request: `params`: invalid type: string "x", expected an object'
    )


def test_wrong_type_names_field_and_value() -> None:
    """A number where a string belongs names the field and the value, in serde's words."""
    error = error_of(models.ThreadRealtimeStopParams, {"threadId": 5})
    assert error.message == (
        "Invalid request: `threadId`: invalid type: integer `5`, expected a string"
    )


def test_string_is_not_a_boolean() -> None:
    """`"ephemeral": "x"` is rejected like the reference does, naming the field."""
    error = error_of(models.ThreadStartParams, {"ephemeral": "x"})
    assert error.message == (
        'Invalid request: `ephemeral`: invalid type: string "x", expected a boolean'
    )


def test_values_are_not_coerced() -> None:
    """A quoted number or a 1 for a flag is an error, not silently converted."""
    audio = {"data": "", "sampleRate": "24000", "numChannels": 1}
    error = error_of(
        models.ThreadRealtimeAppendAudioParams, {"threadId": THREAD_ID, "audio": audio}
    )
    assert error.message == (
        'Invalid request: `audio.sampleRate`: invalid type: string "24000", expected an integer'
    )
    error = error_of(models.ThreadStartParams, {"ephemeral": 1})
    assert "`ephemeral`: invalid type: integer `1`, expected a boolean" in error.message


def test_negative_sample_rate_is_an_invalid_value() -> None:
    """A negative unsigned number is reported as an invalid value of that nested field."""
    audio = {"data": "", "sampleRate": -1, "numChannels": 1}
    error = error_of(
        models.ThreadRealtimeAppendAudioParams, {"threadId": THREAD_ID, "audio": audio}
    )
    assert error.message == (
        "Invalid request: `audio.sampleRate`: invalid value: integer `-1`, "
        "expected a non-negative integer"
    )


def test_unknown_enum_value_lists_the_choices() -> None:
    """An unknown voice is an unknown variant, with every accepted voice listed in order."""
    error = error_of(models.ThreadRealtimeStartParams, {"threadId": THREAD_ID, "voice": "nope"})
    assert error.message.startswith(
        "Invalid request: `voice`: unknown variant `nope`, expected one of `alloy`, `arbor`, "
    )
    assert error.message.endswith("`vale`, `verse`")


def test_unknown_tag_of_a_tagged_union() -> None:
    """An unknown login type reads like the reference's message, naming the `type` field."""
    error = error_of(models.LoginAccountParams, {"type": "bogus"})
    assert error.message == (
        "Invalid request: `type`: unknown variant `bogus`, expected one of `apiKey`, "
        "`chatgpt`, `chatgptDeviceCode`, `chatgptAuthTokens`"
    )


def test_two_choices_read_as_either_or() -> None:
    """An unknown realtime transport lists its two choices as the reference does."""
    params = {"threadId": THREAD_ID, "transport": {"type": "carrier-pigeon"}}
    error = error_of(models.ThreadRealtimeStartParams, params)
    assert error.message == (
        "Invalid request: `transport.type`: unknown variant `carrier-pigeon`, "
        "expected `websocket` or `webrtc`"
    )


def test_missing_field_of_the_chosen_variant() -> None:
    """An API-key login without a key reports the missing `apiKey`, not every variant's needs."""
    error = error_of(models.LoginAccountParams, {"type": "apiKey"})
    assert error.message == "Invalid request: missing field `apiKey`"
    error = error_of(
        models.ThreadRealtimeStartParams, {"threadId": THREAD_ID, "transport": {"type": "webrtc"}}
    )
    assert error.message == "Invalid request: `transport`: missing field `sdp`"


def test_tagged_union_variant_is_returned() -> None:
    """A union-typed params value comes back as the model of the variant the client chose."""
    parsed = parse_params(models.LoginAccountParams, {"type": "apiKey", "apiKey": "sk-test"})
    assert isinstance(parsed, models.ApiKeyv2LoginAccountParams)
    assert parsed.api_key == "sk-test"


def test_nested_error_path_has_index_and_no_union_labels() -> None:
    """A bad turn input item is located as `input[0]` whatever variant it claimed to be."""
    params = {"threadId": THREAD_ID, "input": [{"type": "text"}]}
    assert error_of(models.TurnStartParams, params).message == (
        "Invalid request: `input[0]`: missing field `text`"
    )
    params = {"threadId": THREAD_ID, "input": [{"type": "nope"}]}
    assert error_of(models.TurnStartParams, params).message == (
        "Invalid request: `input[0].type`: unknown variant `nope`, expected one of `text`, "
        "`image`, `localImage`, `skill`, `mention`"
    )


def test_untagged_union_lists_every_accepted_form() -> None:
    """An unknown approval policy lists the named policies and says an object is accepted too."""
    error = error_of(models.ThreadStartParams, {"approvalPolicy": "nope"})
    assert error.message == (
        "Invalid request: `approvalPolicy`: unknown variant `nope`, expected one of "
        "`untrusted`, `on-failure`, `on-request`, `never` or an object"
    )


def test_every_problem_is_reported() -> None:
    """Several bad fields are all named in one message."""
    params = {"threadId": 5, "input": [{"type": "text", "text": "hi"}], "summary": "nope"}
    message = error_of(models.TurnStartParams, params).message
    assert "`threadId`: invalid type: integer `5`, expected a string" in message
    assert "`summary`: unknown variant `nope`" in message


def test_null_is_the_same_as_absent() -> None:
    """Clients that send every optional field as null get the defaults."""
    params = {
        "approvalPolicy": None,
        "sandbox": None,
        "ephemeral": None,
        "persistExtendedHistory": None,
        "experimentalRawEvents": None,
    }
    parsed = parse_params(models.ThreadStartParams, params)
    assert parsed.approval_policy is None
    assert parsed.persist_extended_history is False
    assert parsed.experimental_raw_events is False


def test_null_for_a_required_field_is_a_missing_field() -> None:
    """`"threadId": null` is reported as the missing field it stands for."""
    error = error_of(models.ThreadRealtimeStopParams, {"threadId": None})
    assert error.message == "Invalid request: missing field `threadId`"


def test_realtime_prompt_is_tri_state() -> None:
    """Absent, null and a string prompt can be told apart through `model_fields_set`."""
    absent = parse_params(models.ThreadRealtimeStartParams, {"threadId": THREAD_ID})
    null = parse_params(models.ThreadRealtimeStartParams, {"threadId": THREAD_ID, "prompt": None})
    text = parse_params(models.ThreadRealtimeStartParams, {"threadId": THREAD_ID, "prompt": "x"})
    assert "prompt" not in absent.model_fields_set
    assert "prompt" in null.model_fields_set and null.prompt is None
    assert "prompt" in text.model_fields_set and text.prompt == "x"


def test_unknown_fields_are_ignored() -> None:
    """Fields newer clients send (`protocolVersion`, `turnTrigger`, ...) do not cause errors."""
    params = {
        "clientInfo": {"name": "client", "title": None, "version": "1.0", "extra": True},
        "capabilities": {"experimentalApi": True, "futureFlag": 1},
        "protocolVersion": "1",
    }
    parsed = parse_params(models.InitializeParams, params)
    assert parsed.client_info.name == "client"
    assert parsed.capabilities is not None and parsed.capabilities.experimental_api is True
    turn = {
        "threadId": THREAD_ID,
        "input": [{"type": "text", "text": "hi", "text_elements": []}],
        "turnTrigger": "user",
    }
    assert parse_params(models.TurnStartParams, turn).thread_id == THREAD_ID


def test_auto_review_reviewer_is_accepted() -> None:
    """`approvalsReviewer: "auto_review"` from newer clients means the 0.120 guardian reviewer."""
    parsed = parse_params(models.ThreadStartParams, {"approvalsReviewer": "auto_review"})
    assert parsed.approvals_reviewer == "guardian_subagent"
    turn = {"threadId": THREAD_ID, "input": [], "approvalsReviewer": "auto_review"}
    assert parse_params(models.TurnStartParams, turn).approvals_reviewer == "guardian_subagent"


def test_snake_case_wire_names_are_kept() -> None:
    """`text_elements` is read under its snake_case wire name, not a camelCase guess."""
    turn = {
        "threadId": THREAD_ID,
        "input": [
            {"type": "text", "text": "hi", "text_elements": [{"byteRange": {"start": 0, "end": 2}}]}
        ],
    }
    parsed = parse_params(models.TurnStartParams, turn)
    item = parsed.input[0]
    assert isinstance(item, models.TextUserInput)
    assert item.text_elements is not None and item.text_elements[0].byte_range.end == 2

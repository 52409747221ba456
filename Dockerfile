FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY cluster ./cluster
COPY nodes ./nodes
COPY client ./client
RUN pip install --no-cache-dir .
EXPOSE 8765 8766
CMD ["stui-node", "--host", "0.0.0.0", "--port", "8765", "--health-port", "8766"]
